package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// checkpointDelay is how long the checkpointer lets commits gather in the WAL before it
// copies them back: one checkpoint then serves every commit of that window.
const checkpointDelay = 200 * time.Millisecond

// checkpointer copies the SQLite WAL back into the database file (a PASSIVE checkpoint) on
// its own connection, a little after writes, instead of in the commit that crosses the
// automatic threshold. A PASSIVE checkpoint runs beside the writer and the readers without
// blocking either, so a commit no longer waits for the WAL's pages to be copied and
// synced, and the next write transaction does not wait for that commit to return. The WAL
// stays small (readers look frames up in it), and an idle process does not wake: the loop
// waits for a write.
type checkpointer struct {
	// mu keeps this process's checkpoints apart: SQLite refuses a checkpoint while another
	// runs, without waiting (PRAGMA wal_checkpoint then reports busy and does nothing), and
	// a TRUNCATE checkpoint after an erasure must not be lost to a PASSIVE one.
	mu      sync.Mutex
	conn    *sql.DB
	pending chan struct{} // a write since the last checkpoint (capacity 1)
	closing <-chan struct{}
	done    chan struct{}
	delay   time.Duration
}

func startCheckpointer(dsn string, closing <-chan struct{}) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open checkpointer: %w", err)
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	c := &checkpointer{conn: conn, pending: make(chan struct{}, 1), closing: closing, done: make(chan struct{}), delay: checkpointDelay}
	go c.loop()
	return c, nil
}

// wake tells the checkpointer that a transaction committed.
func (c *checkpointer) wake() {
	select {
	case c.pending <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.closing:
			return
		case <-c.pending:
		}
		select {
		case <-c.closing:
			return
		case <-time.After(c.delay):
		}
		// Best effort: a failed checkpoint leaves the frames in the WAL, where readers
		// find them, for the next one (or the automatic backstop).
		c.mu.Lock()
		_, _ = c.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		c.mu.Unlock()
	}
}

// stop ends the loop (the caller closed closing) and closes the connection.
func (c *checkpointer) stop() {
	<-c.done
	c.conn.Close()
}
