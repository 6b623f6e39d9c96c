package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath returns Debian's Chromium. Without it the browser test is skipped, except
// under CI=true, where a missing browser must fail rather than hide the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but Chromium is not installed (/usr/bin/chromium or chromium in PATH): the browser test must run in CI (apt-get install chromium)")
	}
	t.Skip("Chromium is not installed (/usr/bin/chromium or chromium in PATH); skipping the browser test")
	return ""
}

// browser is one headless Chromium tab driven by a test: every step is bounded in time and
// fails the test with the step's name.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// stepTimeout bounds one step of a browser scenario.
const stepTimeout = 30 * time.Second

// newBrowser starts headless Chromium (skipped without it, except under CI=true) with the
// browser asking for English, and a window of width × height. It stops with the test.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	return newBrowserIn(t, width, height, "en-US")
}

// newBrowserIn is newBrowser with the browser asking for language tag (e.g. "fr-FR").
func newBrowserIn(t *testing.T, width, height int, tag string) *browser {
	t.Helper()
	primary, _, _ := strings.Cut(tag, "-")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", tag),
		chromedp.Flag("accept-lang", tag+","+primary),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	overall, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(overall, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancel() })
	// The first action starts the browser; it must not run under a step's deadline, which
	// would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// step returns a context bounding one step.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// do runs actions as the step name.
func (b *browser) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

// get runs an action returning a string.
func (b *browser) get(name string, a chromedp.Action[string]) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// text waits for sel to be visible and returns its text, trimmed.
func (b *browser) text(name, sel string) string {
	b.t.Helper()
	b.do(name, chromedp.WaitVisible(css(sel)))
	return strings.TrimSpace(b.get(name, chromedp.Text(css(sel))))
}

// count returns how many elements match sel.
func (b *browser) count(name, sel string) int {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	if err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
	return n
}

// attr returns attribute name of the first element matching sel.
func (b *browser) attr(name, sel, attribute string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(css(sel), attribute))
	if err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
	return v.Value
}

// bodyText returns the text of the whole page.
func (b *browser) bodyText(name string) string {
	b.t.Helper()
	return b.get(name, chromedp.Text(css("body")))
}

// expect fails the test unless got contains every want.
func (b *browser) expect(what, got string, want ...string) {
	b.t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s = %q; want it to contain %q", what, got, w)
		}
	}
}

// shot saves a screenshot when FIDELIS_SCREENSHOTS names a directory, to look at the
// layout by eye.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("FIDELIS_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := b.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// fetch downloads the target of the link matching sel from the page, with the page's
// session (a download would leave the page), and returns "STATUS MEDIA-TYPE\n" and the
// body as text.
func (b *browser) fetch(name, sel string) string {
	b.t.Helper()
	href := b.attr(name, sel, "href")
	ctx, cancel := b.step()
	defer cancel()
	js := `fetch(` + jsString(href) + `, {credentials: 'same-origin'}).then(r => r.text().then(t => r.status + ' ' + (r.headers.get('content-type') || '').split(';')[0] + '\n' + t))`
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: fetch %s: %v", name, href, err)
	}
	return v
}
