package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/results"
)

// TestHTMLInBrowser loads the HTML report of a real run
// (testdata/real-run.json, written by `mtlsbench run -f versions -d 1s
// --repeat 2`: 16 cases, long case keys) in headless Chromium at 1280 px
// and checks what a reader would see: no console errors or exceptions, no
// horizontal scrolling of the page, and every chart's text inside its
// chart. Chromium runs with a font configuration that rejects Liberation
// Sans, as on a machine without it, so a chart that leans on a system font
// for its metrics shows up as clipped text.
//
// Chromium is found as $MTLSBENCH_CHROMIUM, else chromium,
// chromium-browser, google-chrome or headless-shell on $PATH. Without it
// the test skips, or fails when MTLSBENCH_REQUIRE_SERVERS=1 (CI).
func TestHTMLInBrowser(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		testenv.NeedServer(t, "chromium", "apt-get install chromium",
			errors.New("no Chromium on PATH (chromium, chromium-browser, google-chrome, headless-shell) and MTLSBENCH_CHROMIUM unset"))
	}
	run, err := results.ReadFile(filepath.Join("testdata", "real-run.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := RenderFile(page, run, FormatHTML, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	const width, height = 1280, 900
	got, consoleErrors := loadInChromium(t, browser, dir, "file://"+page, width, height)
	if got.GridColumns != 2 {
		t.Errorf("at %d px the charts are in %d columns, want 2", width, got.GridColumns)
	}

	for _, e := range consoleErrors {
		t.Errorf("console: %s", e)
	}
	if got.SVGs < 10 || got.Texts < 100 {
		t.Fatalf("the page has %d charts and %d chart texts: want the charts of every case (>= 10, >= 100)", got.SVGs, got.Texts)
	}
	if got.InnerWidth != width {
		t.Errorf("viewport is %d px wide, want %d", got.InnerWidth, width)
	}
	if got.ScrollWidth > got.InnerWidth {
		t.Errorf("the page scrolls sideways at %d px: scrollWidth %d; widest elements: %s", got.InnerWidth, got.ScrollWidth, strings.Join(got.Wide, "; "))
	}
	for i, o := range got.Outside {
		if i == 10 {
			t.Errorf("… and %d more texts outside their chart", len(got.Outside)-10)
			break
		}
		t.Errorf("chart text outside its chart: %s", o)
	}
	for _, f := range got.UnloadedFonts {
		t.Errorf("chart text is set in %s, which is not a font the page embeds and loaded: its layout depends on the reader's machine", f)
	}

	// A narrow window: one column of charts, still no sideways scrolling.
	const narrow = 700
	got, consoleErrors = loadInChromium(t, browser, dir, "file://"+page, narrow, height)
	for _, e := range consoleErrors {
		t.Errorf("console at %d px: %s", narrow, e)
	}
	if got.GridColumns != 1 {
		t.Errorf("at %d px the charts are in %d columns, want 1", narrow, got.GridColumns)
	}
	if got.ScrollWidth > got.InnerWidth {
		t.Errorf("the page scrolls sideways at %d px: scrollWidth %d; widest elements: %s", got.InnerWidth, got.ScrollWidth, strings.Join(got.Wide, "; "))
	}
	if len(got.Outside) > 0 {
		t.Errorf("at %d px, %d chart texts outside their chart, the first %s", narrow, len(got.Outside), got.Outside[0])
	}
}

// browserCheck is what the page reports about itself.
type browserCheck struct {
	ScrollWidth, InnerWidth int
	SVGs, Texts             int
	// Outside describes each SVG text whose box leaves its SVG's box.
	Outside []string
	// Wide names the elements wider than the viewport.
	Wide []string
	// UnloadedFonts are the first font families of chart texts that no
	// loaded FontFace of the page provides.
	UnloadedFonts []string
	// GridColumns is how many columns the first grid of charts has.
	GridColumns int
}

// checkScript measures the page once its fonts have loaded. A text may
// leave its chart by half a pixel (rounding of the scaled SVG).
const checkScript = `(async () => {
  await document.fonts.ready;
  const out = {ScrollWidth: document.scrollingElement.scrollWidth, InnerWidth: window.innerWidth,
    SVGs: 0, Texts: 0, Outside: [], Wide: [], UnloadedFonts: []};
  const loaded = new Set([...document.fonts].filter(f => f.status === 'loaded').map(f => f.family.replace(/^["']|["']$/g, '')));
  const families = new Set();
  const tol = 0.5;
  for (const svg of document.querySelectorAll('svg')) {
    out.SVGs++;
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      out.Texts++;
      const r = t.getBoundingClientRect();
      families.add(getComputedStyle(t).fontFamily.split(',')[0].trim().replace(/^["']|["']$/g, ''));
      if (r.left < box.left - tol || r.right > box.right + tol || r.top < box.top - tol || r.bottom > box.bottom + tol) {
        const title = (svg.closest('figure') && svg.closest('figure').querySelector('text')) ? svg.querySelector('text').textContent : '';
        out.Outside.push(JSON.stringify(t.textContent) + ' at [' + [r.left, r.top, r.right, r.bottom].map(Math.round) +
          '] in chart [' + [box.left, box.top, box.right, box.bottom].map(Math.round) + '] (' + title + ')');
      }
    }
  }
  for (const f of families) if (!loaded.has(f)) out.UnloadedFonts.push(f);
  const grid = document.querySelector('.grid2');
  out.GridColumns = grid ? getComputedStyle(grid).gridTemplateColumns.trim().split(/\s+/).length : 0;
  for (const el of document.querySelectorAll('body *:not(svg *)')) {
    if (el.parentElement && el.parentElement.closest('.scroll')) continue; // scrolls in its own box
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + tol && out.Wide.length < 5) {
      out.Wide.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className : '') +
        ' ' + JSON.stringify((el.textContent || '').slice(0, 60)) + ' right edge ' + Math.round(r.right));
    }
  }
  return JSON.stringify(out);
})()`

// loadInChromium opens url in a fresh headless Chromium with a width ×
// height viewport and returns the page's own measurements and every
// console error, uncaught exception and error log entry it produced.
func loadInChromium(t *testing.T, browser, dir, url string, width, height int) (browserCheck, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // root in CI containers
		chromedp.WindowSize(width, height),
		chromedp.UserDataDir(filepath.Join(dir, fmt.Sprintf("profile-%d", width))),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Env(noLiberationFonts(t, dir)...),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()

	var mu sync.Mutex // guards problems
	var problems []string
	err := chromedp.Listen(tabCtx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				p += " " + ev.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p = fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("chromium (%s): %v", browser, err)
	}
	err = chromedp.Do(tabCtx,
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate(url),
		chromedp.WaitReady("body"),
	)
	if err != nil {
		t.Fatalf("chromium (%s): %v", browser, err)
	}
	raw, err := chromedp.Run(tabCtx, chromedp.Evaluate[string](checkScript, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("chromium (%s): %v", browser, err)
	}
	var got browserCheck
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("page measurements %q: %v", raw, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got, append([]string(nil), problems...)
}

// noLiberationFonts returns the environment that points Chromium at a
// font configuration rejecting Liberation Sans (and every Liberation
// face), so the page is seen as on a machine without them.
func noLiberationFonts(t *testing.T, dir string) []string {
	t.Helper()
	conf := `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts</dir>
  <dir>/usr/local/share/fonts</dir>
  <cachedir>` + filepath.Join(dir, "fontcache") + `</cachedir>
  <selectfont><rejectfont><glob>*iberation*</glob><pattern><patelt name="family"><string>Liberation Sans</string></patelt></pattern></rejectfont></selectfont>
</fontconfig>
`
	path := filepath.Join(dir, "fonts.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"FONTCONFIG_FILE=" + path}
}

// findChromium returns the path of a Chromium to drive, or "".
func findChromium() string {
	if p := os.Getenv("MTLSBENCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
