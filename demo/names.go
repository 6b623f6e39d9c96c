package demo

// Read-only name tables. The combinations drawn from them are random, so the
// generated people are synthetic; the tables themselves only hold common
// first names, common family names and generic street names.
//
// Changing any table changes the generated data set for every seed.

// French.
var (
	frMale = []string{
		"Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Raphaël", "Léo",
		"Adam", "Nathan", "Théo", "Paul", "Noah", "Mathis", "Ethan", "Tom",
		"Sacha", "Maël", "Timéo", "Clément", "Thomas", "Nicolas", "Julien", "Pierre",
		"Antoine", "Alexandre", "Maxime", "Guillaume", "Romain", "Mathieu", "Olivier", "Philippe",
		"Laurent", "Christophe", "Vincent", "David", "Sébastien", "Stéphane", "Frédéric", "Jérôme",
		"Jérémy", "François", "Benoît", "Loïc", "Hervé", "Joël", "André", "René",
		"Michel", "Alain", "Bernard", "Patrick", "Gérard", "Jacques", "Daniel", "Éric",
		"Étienne", "Émile", "Aurélien", "Cédric", "Grégoire", "Kévin", "Yannick", "Gaël",
		"Noël", "Baptiste", "Quentin", "Adrien", "Enzo", "Karim", "Mehdi", "Yanis",
		"Rayan", "Samir", "Jean-Pierre", "Jean-Luc", "Jean-François", "Jean-Baptiste", "Pierre-Yves", "Marc-Antoine",
	}
	frFemale = []string{
		"Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Léa", "Rose",
		"Anna", "Mia", "Inès", "Ambre", "Julia", "Léna", "Manon", "Juliette",
		"Lou", "Zoé", "Camille", "Agathe", "Élodie", "Hélène", "Cécile", "Amélie",
		"Mélanie", "Céline", "Aurélie", "Océane", "Agnès", "Thérèse", "Renée", "Gaëlle",
		"Maëlle", "Anaïs", "Noémie", "Anaëlle", "Héloïse", "Clémence", "Bérénice", "Solène",
		"Margaux", "Pauline", "Lucie", "Julie", "Sophie", "Nathalie", "Isabelle", "Catherine",
		"Sylvie", "Valérie", "Christine", "Françoise", "Monique", "Brigitte", "Martine", "Véronique",
		"Sandrine", "Stéphanie", "Virginie", "Émilie", "Laëtitia", "Sarah", "Yasmine", "Nadia",
		"Fatima", "Samira", "Jeanne", "Marie", "Anne", "Claire", "Marie-Claire", "Anne-Sophie",
		"Marie-Hélène", "Marion", "Capucine", "Apolline", "Joséphine", "Éloïse", "Maëva", "Coralie",
	}
	frFamily = []string{
		"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
		"Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
		"Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre",
		"Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier",
		"Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
		"Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine",
		"Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis",
		"Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël",
		"Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand", "Dufour", "Blanchard",
		"Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin",
		"Fernandez", "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc",
		"Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Lacroix", "Fabre",
		"Dupuis", "Olivier", "Rodriguez", "Da Silva", "Hubert", "Charles", "Guillot", "Rivière",
		"Le Gall", "Guillaume", "Rey", "Moulin", "Berger", "Lecomte", "Ménard", "Fleury",
		"Deschamps", "Carpentier", "Benoît", "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux",
		"Renault", "Jacquet", "Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet",
		"Baron", "Dupuy", "Pons", "Carré", "Breton", "Rémy", "Perrot", "Guyot",
		"Marty", "Cousin", "Bouvier", "Dupré", "Hébert", "Lévêque", "Lemaître", "Châtelain",
		"Benali", "Haddad", "Mansouri", "Diallo", "Traoré", "Tran", "Le Goff", "Le Bihan",
		"Kerbrat", "Hoarau", "Payet", "Étienne", "Bouchet", "Gilbert", "Tessier", "Germain",
	}
)

// German.
var (
	deMale = []string{
		"Lukas", "Leon", "Maximilian", "Felix", "Jonas", "Paul", "Elias", "Noah",
		"Ben", "Finn", "Luis", "Jan", "Tim", "Niklas", "Tobias", "Stefan",
		"Michael", "Andreas", "Thomas", "Jürgen", "Klaus", "Wolfgang", "Uwe", "Jörg",
		"Björn", "Sören", "Matthias", "Sebastian", "Florian", "Dominik", "Günter", "Hans",
		"Jörn", "Markus", "Christian", "Frank", "Ralf", "Dieter", "Moritz", "Henrik",
	}
	deFemale = []string{
		"Anna", "Lena", "Leonie", "Lea", "Hannah", "Mia", "Emilia", "Sophie",
		"Marie", "Lara", "Laura", "Julia", "Katharina", "Sabine", "Petra", "Ursula",
		"Jutta", "Birgit", "Claudia", "Anja", "Susanne", "Jana", "Charlotte", "Greta",
		"Mareike", "Käthe", "Dörte", "Heike", "Monika", "Andrea", "Franziska", "Johanna",
		"Annika", "Kerstin", "Marlene", "Ilse", "Gisela", "Luise", "Frieda", "Nele",
	}
	deFamily = []string{
		"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
		"Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
		"Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann",
		"Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid",
		"Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
		"Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung",
		"Hahn", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler",
		"Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Ludwig",
		"Böhm", "Winter", "Kraus", "Schumacher", "Krämer", "Vogt", "Stein", "Jäger",
		"Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber",
		"Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl", "Engel",
		"Horn", "Busch", "Bergmann", "Voigt", "Sauer", "Arnold", "Pfeiffer", "Wolff",
	}
)

// Luxembourgish.
var (
	luMale = []string{
		"Luc", "Marc", "Gilles", "Yves", "Jean", "Pol", "Jos", "Tom",
		"Ben", "Max", "Charel", "Noah", "Léon", "Mathis", "Gabriel", "Claude",
	}
	luFemale = []string{
		"Marie", "Anne", "Lily", "Emma", "Mia", "Zoé", "Nathalie", "Sandra",
		"Tessy", "Jil", "Nadine", "Carole", "Claudine", "Lea", "Sophie", "Michèle",
	}
	luFamily = []string{
		"Schmit", "Muller", "Weber", "Wagner", "Hoffmann", "Thill", "Schroeder", "Reuter",
		"Kieffer", "Klein", "Welter", "Majerus", "Hansen", "Theis", "Weis", "Kremer",
		"Meyer", "Becker", "Schiltz", "Schmitz", "Steffen", "Faber", "Kayser", "Goerens",
		"Wirtz", "Feller", "Ries", "Back", "Mangen", "Hilbert", "Weyland", "Kirsch",
	}
)

// Spanish.
var (
	esMale = []string{
		"Hugo", "Martín", "Lucas", "Mateo", "Leo", "Daniel", "Alejandro", "Pablo",
		"Manuel", "Álvaro", "Adrián", "David", "Mario", "Javier", "José", "Juan",
		"Antonio", "Francisco", "Sergio", "Iván", "Jesús", "Andrés", "Íñigo", "Rubén",
		"Óscar", "Raúl", "Joaquín", "Ramón", "Fernando", "Carlos", "Miguel", "Jorge",
	}
	esFemale = []string{
		"Lucía", "Sofía", "Martina", "María", "Julia", "Paula", "Valeria", "Emma",
		"Daniela", "Carla", "Alba", "Noa", "Sara", "Carmen", "Ana", "Laura",
		"Isabel", "Pilar", "Dolores", "Begoña", "Inés", "Nerea", "Ainhoa", "Elena",
		"Rocío", "Mónica", "Cristina", "Marta", "Raquel", "Nuria", "Lorena", "Patricia",
	}
	esFamily = []string{
		"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
		"Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz",
		"Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez",
		"Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez",
		"Ortega", "Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez",
		"Iglesias", "Medina", "Garrido", "Cortés", "Castillo", "Santos", "Lozano", "Guerrero",
		"Cano", "Prieto", "Méndez", "Cruz", "Calvo", "Gallego", "Vidal", "León",
		"Herrera", "Márquez", "Peña", "Flores", "Cabrera", "Campos", "Vega", "Fuentes",
		"Carrasco", "Caballero", "Reyes", "Nieto", "Aguilar", "Pascual", "Herrero", "Lorenzo",
		"Montero", "Hidalgo", "Giménez", "Ibáñez", "Ferrer", "Durán", "Benítez", "Echeverría",
	}
)

// Italian.
var (
	itMale = []string{
		"Leonardo", "Francesco", "Alessandro", "Lorenzo", "Mattia", "Andrea", "Gabriele", "Riccardo",
		"Tommaso", "Edoardo", "Marco", "Luca", "Giuseppe", "Giovanni", "Antonio", "Matteo",
		"Niccolò", "Simone", "Davide", "Federico", "Stefano", "Paolo", "Salvatore", "Nicolò",
		"Fabrizio", "Massimo", "Roberto", "Vincenzo", "Emanuele", "Pietro", "Filippo", "Gianluca",
	}
	itFemale = []string{
		"Sofia", "Giulia", "Aurora", "Alice", "Ginevra", "Emma", "Giorgia", "Greta",
		"Beatrice", "Anna", "Chiara", "Francesca", "Martina", "Sara", "Elena", "Valentina",
		"Federica", "Alessia", "Maria", "Rosa", "Lucia", "Ilaria", "Noemi", "Carlotta",
		"Silvia", "Paola", "Roberta", "Simona", "Elisa", "Serena", "Benedetta", "Caterina",
	}
	itFamily = []string{
		"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
		"Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
		"Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani",
		"Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile",
		"Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti",
		"Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini",
		"Grasso", "Valentini", "Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo",
		"Sanna", "Farina", "Rizzi", "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri",
		"Mazza", "Testa", "Grassi", "Carbone", "Giuliani", "Benedetti", "Barone", "Caputo",
		"Guerra", "Palmieri", "Bernardi", "Fiore", "De Rosa", "Bellini", "Basile", "Ruggiero",
	}
)

// Dutch (Netherlands).
var (
	nlMale = []string{
		"Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Bram", "Luuk",
		"Jesse", "Thijs", "Ruben", "Sven", "Jeroen", "Pieter", "Joost", "Bas",
		"Wouter", "Maarten", "Joris", "Stijn", "Koen", "Sander", "Gijs", "Arjen",
	}
	nlFemale = []string{
		"Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora",
		"Fenna", "Lotte", "Anouk", "Sanne", "Femke", "Eva", "Iris", "Lieke",
		"Marloes", "Inge", "Annelies", "Anneke", "Noor", "Saskia", "Chloë", "Fleur",
	}
	nlFamily = []string{
		"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
		"Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
		"Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf",
		"van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen",
		"van den Broek", "de Bruijn", "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet", "van de Ven",
		"Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal", "Prins", "Blom",
	}
)

// Flemish (Belgium, Dutch speaking).
var (
	vlMale = []string{
		"Lars", "Wout", "Arne", "Jens", "Pieter", "Dries", "Bart", "Kris",
		"Geert", "Jan", "Tom", "Wim", "Stijn", "Koen", "Jef", "Seppe",
		"Ruben", "Lander", "Warre", "Mathias",
	}
	vlFemale = []string{
		"Lotte", "Ine", "Elke", "An", "Els", "Sofie", "Griet", "Hanne",
		"Lien", "Fien", "Marie", "Nele", "Kaat", "Febe", "Ruth", "Jolien",
		"Lore", "Eline", "Leen", "Ann-Sophie",
	}
	vlFamily = []string{
		"Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
		"Wouters", "De Smet", "Hermans", "Aerts", "Pauwels", "Vermeulen", "Van Damme", "Verstraete",
		"Desmet", "De Clercq", "Lambrechts", "Michiels", "Verhaegen", "De Backer", "Van den Bossche", "Cools",
		"Martens", "Hendrickx", "Van de Velde", "Coppens", "Vandenberghe", "Vercammen", "Smets", "Gielen",
		"Thys", "Segers", "Van Hoof", "De Wilde", "Verbeke", "Claeys", "Stevens", "Dierckx",
	}
)

// Portuguese.
var (
	ptMale = []string{
		"João", "Rodrigo", "Martim", "Francisco", "Santiago", "Tomás", "Afonso", "Duarte",
		"Miguel", "Gonçalo", "Diogo", "Tiago", "Pedro", "Rui", "Nuno", "André",
		"Luís", "Paulo", "Bruno", "Vasco", "Sérgio", "Hélio", "Fábio", "Ricardo",
	}
	ptFemale = []string{
		"Maria", "Leonor", "Matilde", "Beatriz", "Carolina", "Mariana", "Ana", "Inês",
		"Margarida", "Sofia", "Joana", "Catarina", "Rita", "Marta", "Filipa", "Teresa",
		"Conceição", "Fátima", "Graça", "Sónia", "Patrícia", "Cláudia", "Vânia", "Lúcia",
	}
	ptFamily = []string{
		"Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins",
		"Jesus", "Sousa", "Fernandes", "Gonçalves", "Gomes", "Lopes", "Marques", "Alves",
		"Almeida", "Ribeiro", "Pinto", "Carvalho", "Teixeira", "Moreira", "Correia", "Mendes",
		"Nunes", "Soares", "Vieira", "Monteiro", "Cardoso", "Rocha", "Raposo", "Neves",
		"Coelho", "Cruz", "Cunha", "Pires", "Ramos", "Reis", "Simões", "Antunes",
		"Matos", "Fonseca", "Machado", "Araújo", "Barbosa", "Tavares", "Lourenço", "Figueiredo",
		"Azevedo", "Freitas", "Magalhães", "Brandão", "Galvão", "Assunção", "Leitão", "Gaspar",
	}
)

// Polish. Family names ending in -ki take the feminine -ka for women.
var (
	plMale = []string{
		"Antoni", "Jan", "Jakub", "Aleksander", "Franciszek", "Szymon", "Filip", "Wojciech",
		"Mikołaj", "Kacper", "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał",
		"Marcin", "Łukasz", "Grzegorz", "Mateusz", "Adam", "Zbigniew", "Jerzy", "Bartłomiej",
	}
	plFemale = []string{
		"Zofia", "Zuzanna", "Hanna", "Julia", "Maja", "Oliwia", "Alicja", "Lena",
		"Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Magdalena",
		"Joanna", "Aleksandra", "Monika", "Dorota", "Beata", "Agata", "Jadwiga", "Grażyna",
	}
	plFamily = []string{
		"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
		"Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Wojciechowski", "Kwiatkowski",
		"Krawczyk", "Kaczmarek", "Piotrowski", "Grabowski", "Zając", "Pawłowski", "Michalski", "Król",
		"Wieczorek", "Jabłoński", "Wróbel", "Nowakowski", "Majewski", "Olszewski", "Stępień", "Malinowski",
		"Jaworski", "Adamczyk", "Dudek", "Nowicki", "Pawlak", "Górski", "Witkowski", "Walczak",
		"Sikora", "Baran", "Rutkowski", "Michalak", "Szewczyk", "Ostrowski", "Tomaszewski", "Zalewski",
	}
)

// Street names. Repeated entries weight the draw.
var (
	frStreetTypes = []string{
		"rue", "rue", "rue", "rue", "rue", "rue", "avenue", "avenue", "boulevard",
		"place", "allée", "impasse", "chemin", "quai", "cours", "square",
	}
	beStreetTypes = []string{
		"Rue", "Rue", "Rue", "Rue", "Avenue", "Avenue", "Boulevard", "Chaussée",
		"Place", "Chemin", "Clos", "Drève",
	}
	chStreetTypes = []string{
		"Rue", "Rue", "Rue", "Rue", "Avenue", "Avenue", "Chemin", "Chemin",
		"Route", "Place", "Boulevard", "Quai",
	}
	frStreetNames = []string{
		"des Lilas", "de la République", "Victor Hugo", "Jean Jaurès", "de la Paix", "du Général de Gaulle",
		"Pasteur", "des Écoles", "du Moulin", "de l'Église", "Gambetta", "Voltaire",
		"des Tilleuls", "du Château", "de la Gare", "Émile Zola", "des Acacias", "Saint-Michel",
		"Carnot", "de Verdun", "Foch", "de la Liberté", "des Roses", "du Stade",
		"Molière", "Jules Ferry", "de Strasbourg", "des Vignes", "du Marché", "de la Fontaine",
		"des Peupliers", "Anatole France", "Paul Bert", "de la Mairie", "du Lavoir", "des Cerisiers",
		"Jean Moulin", "Louis Pasteur", "d'Alsace-Lorraine", "des Marronniers", "de Bretagne", "du Port",
		"Sainte-Catherine", "des Jardins", "Marcel Pagnol", "Pierre et Marie Curie", "des Platanes", "du Soleil",
		"des Hirondelles", "de la Forêt", "des Prés", "du Four", "de Provence", "des Mimosas",
	}
	deStreetStems = []string{
		"Haupt", "Bahnhof", "Schiller", "Goethe", "Linden", "Garten", "Kirch", "Schul",
		"Wald", "Berg", "Mozart", "Beethoven", "Rosen", "Birken", "Eichen", "Dorf",
		"Mühlen", "Sonnen", "Feld", "Wiesen", "Post", "Markt", "Blumen", "Tannen",
		"Ahorn", "Buchen", "Park", "Burg", "See", "Brunnen", "Kant", "Bismarck",
		"Friedrich-Ebert-", "Konrad-Adenauer-", "Albert-Schweitzer-", "Heinrich-Heine-",
		"Berliner ", "Münchner ", "Hamburger ", "Frankfurter ",
	}
	deStreetSuffixes = []string{
		"straße", "straße", "straße", "straße", "straße", "weg", "weg", "allee",
		"platz", "ring", "gasse",
	}
	nlStreetStems = []string{
		"Kerk", "Dorps", "Stations", "School", "Molen", "Hoofd", "Juliana", "Beatrix",
		"Wilhelmina", "Oranje", "Markt", "Linden", "Eiken", "Beuken", "Rozen", "Tulpen",
		"Zuid", "Noord", "Oost", "West", "Brink", "Veld", "Park", "Haven",
		"Kanaal", "Spoor", "Vondel", "Rembrandt", "Bloemen", "Nieuw",
	}
	nlStreetSuffixes = []string{
		"straat", "straat", "straat", "straat", "weg", "weg", "laan", "laan",
		"plein", "singel", "kade", "dreef",
	}
	esStreetTypes = []string{
		"Calle", "Calle", "Calle", "Calle", "Calle", "Avenida", "Avenida", "Plaza",
		"Paseo", "Camino", "Ronda", "Travesía",
	}
	esStreetNames = []string{
		"Mayor", "Real", "Nueva", "del Sol", "de la Paz", "de Cervantes", "de Goya", "de la Iglesia",
		"del Carmen", "de San Juan", "de la Constitución", "de Andalucía", "de Colón", "del Río", "de los Olivos", "de la Luna",
		"de Alfonso XIII", "de Velázquez", "de Lope de Vega", "de Santa Ana", "de la Estación", "del Mar", "de las Flores", "de Antonio Machado",
		"de García Lorca", "de la Libertad", "de Castilla", "del Pilar", "de San Francisco", "de la Ermita",
	}
	itStreetTypes = []string{
		"Via", "Via", "Via", "Via", "Via", "Via", "Viale", "Viale", "Corso",
		"Piazza", "Vicolo", "Largo",
	}
	itStreetNames = []string{
		"Roma", "Garibaldi", "Giuseppe Mazzini", "Cavour", "Dante Alighieri", "Vittorio Emanuele II", "XX Settembre", "Giacomo Matteotti",
		"Antonio Gramsci", "della Repubblica", "della Libertà", "dei Mille", "San Francesco", "Guglielmo Marconi", "Giuseppe Verdi", "Giacomo Leopardi",
		"Alessandro Manzoni", "dei Giardini", "del Popolo", "Nazionale", "dell'Indipendenza", "IV Novembre", "Trieste", "Venezia",
		"Milano", "San Giovanni", "dei Tigli", "delle Rose", "del Mare", "Santa Lucia",
	}
	ptStreetTypes = []string{
		"Rua", "Rua", "Rua", "Rua", "Rua", "Avenida", "Avenida", "Travessa",
		"Largo", "Praça", "Estrada", "Calçada",
	}
	ptStreetNames = []string{
		"Augusta", "da Liberdade", "de Santa Catarina", "do Almada", "da República", "dos Combatentes", "25 de Abril", "Dom João IV",
		"de São Bento", "das Flores", "do Comércio", "Cinco de Outubro", "Luís de Camões", "Alexandre Herculano", "Gago Coutinho", "da Igreja",
		"do Carmo", "Direita", "Nova", "Miguel Bombarda", "da Boavista", "de Cedofeita", "do Mar", "dos Pescadores",
	}
	ptFloors = []string{
		"1.º Esq.", "1.º Dto.", "2.º Esq.", "2.º Dto.", "3.º Esq.", "3.º Dto.", "4.º A", "R/C",
	}
	plStreetTypes = []string{
		"ul.", "ul.", "ul.", "ul.", "ul.", "ul.", "ul.", "al.", "pl.", "os.",
	}
	plStreetNames = []string{
		"Długa", "Polna", "Lipowa", "Kościuszki", "Mickiewicza", "Słowackiego", "Sienkiewicza", "Piłsudskiego",
		"Kopernika", "Chopina", "Kwiatowa", "Leśna", "Ogrodowa", "Szkolna", "Słoneczna", "Jana Pawła II",
		"3 Maja", "Kolejowa", "Wiejska", "Krakowska", "Grunwaldzka", "Żeromskiego", "Reymonta", "Brzozowa",
	}
	esFloors = []string{
		"1º A", "1º B", "2º A", "2º B", "2º C", "3º A", "3º D", "4º B", "5º Izda.", "Bajo",
	}
)

// Attribute values.
var (
	newsletterSources = []string{
		"in_store", "in_store", "in_store", "website", "website", "mobile_app",
		"social_media", "referral", "event", "partner",
	}
	favouriteCategories = []string{
		"women", "men", "kids", "home", "beauty", "shoes", "sport", "accessories", "food",
	}
	clothingSizesFemale = []string{"XS", "S", "S", "M", "M", "M", "L", "L", "XL"}
	clothingSizesMale   = []string{"S", "M", "M", "L", "L", "L", "XL", "XL", "XXL"}
	contactChannels     = []string{"email", "email", "email", "sms", "sms", "phone", "post"}
	pets                = []string{"none", "none", "none", "dog", "dog", "cat", "cat", "other"}
	childrenCounts      = []string{"0", "0", "0", "1", "1", "2", "2", "3", "4"}
)

// Store names, by country.
var (
	frStores = []string{
		"Paris Rivoli", "Paris Opéra", "Paris La Défense", "Lyon Part-Dieu", "Lyon Confluence",
		"Marseille Terrasses du Port", "Lille Euralille", "Bordeaux Sainte-Catherine", "Toulouse Wilson",
		"Nantes Atlantis", "Strasbourg Kléber", "Nice Masséna", "Montpellier Odysseum", "Rennes Colombier",
		"Grenoble Grand'Place", "Boutique en ligne",
	}
	beStores = []string{
		"Bruxelles Toison d'Or", "Bruxelles Woluwe", "Liège Médiacité", "Namur Centre",
		"Antwerpen Meir", "Gent Zuid", "Brugge Steenstraat", "Boutique en ligne",
	}
	deStores = []string{
		"Berlin Alexanderplatz", "München Marienplatz", "Hamburg Mönckebergstraße",
		"Köln Hohe Straße", "Frankfurt Zeil", "Stuttgart Königstraße", "Online-Shop",
	}
	esStores = []string{
		"Madrid Gran Vía", "Madrid Serrano", "Barcelona Passeig de Gràcia", "Valencia Colón",
		"Sevilla Nervión", "Bilbao Gran Vía", "Tienda online",
	}
	itStores = []string{
		"Milano Corso Buenos Aires", "Roma Via del Corso", "Torino Via Roma", "Napoli Via Toledo",
		"Firenze Via dei Calzaiuoli", "Bologna Via Indipendenza", "Negozio online",
	}
	nlStores = []string{
		"Amsterdam Kalverstraat", "Rotterdam Lijnbaan", "Utrecht Hoog Catharijne", "Den Haag Grote Marktstraat",
		"Webwinkel",
	}
	ptStores = []string{"Lisboa Chiado", "Lisboa Colombo", "Porto Santa Catarina", "Braga Centro", "Loja online"}
	luStores = []string{"Luxembourg Cloche d'Or", "Luxembourg Kirchberg", "Esch-sur-Alzette Belval", "Boutique en ligne"}
	chStores = []string{
		"Genève Balexert", "Genève Rive", "Lausanne Flon", "Zürich Bahnhofstrasse", "Basel Freie Strasse",
		"Bern Marktgasse", "Onlineshop",
	}
	plStores = []string{"Warszawa Złote Tarasy", "Kraków Galeria Krakowska", "Wrocław Rynek", "Sklep internetowy"}
)
