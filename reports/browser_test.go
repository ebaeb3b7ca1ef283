package reports

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// findChromium returns a headless-capable Chromium, or skips the test
// (fails it under CI=true, where .ci/run installs Debian's chromium).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (CI=true): .ci/run should apt-get install chromium")
	}
	t.Skip("chromium is not installed; apt-get install -y chromium to run the browser test")
	return ""
}

// probeScript, appended to a copy of report.html, records on <body> how
// many images the page has and how many loaded (complete, with a width).
const probeScript = `<script>
window.addEventListener("load", function () {
  var im = document.images, ok = 0;
  for (var i = 0; i < im.length; i++) { if (im[i].complete && im[i].naturalWidth > 0) ok++; }
  document.body.setAttribute("data-images", im.length);
  document.body.setAttribute("data-loaded", ok);
});
</script>
</body>`

var probeResult = regexp.MustCompile(`<body[^>]*data-images="(\d+)"[^>]*data-loaded="(\d+)"`)

// TestHTMLRendersInChromium renders report.html in headless Chromium, with
// the network off, and checks that every plot loaded.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := findChromium(t)
	rep, _ := generate(t, Options{}, "scenario.json", "target-kafka.json")
	page, err := os.ReadFile(rep.HTML)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(rep.Dir, "probe.html")
	if err := os.WriteFile(probe, []byte(strings.Replace(string(page), "</body>", probeScript, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := dumpDOM(t, bin, probe)
	m := probeResult.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run; the DOM begins:\n%.2000s", dom)
	}
	images, _ := strconv.Atoi(m[1])
	loaded, _ := strconv.Atoi(m[2])
	t.Logf("%d of %d images loaded", loaded, images)
	if images != len(rep.Plots) || images == 0 {
		t.Errorf("the page has %d images for %d plots", images, len(rep.Plots))
	}
	if loaded != images {
		t.Errorf("%d of %d images loaded", loaded, images)
	}
	for _, want := range []string{"<h1>gale report: quickstart, compare-100B</h1>", "<h2>Comparison</h2>", "<td>kill</td>"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}

	// negative control: a page with a broken plot is caught
	broken := strings.Replace(string(page), "data:image/svg+xml;base64,", "data:image/svg+xml;base64,AAAA", 1)
	if err := os.WriteFile(probe, []byte(strings.Replace(broken, "</body>", probeScript, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	m = probeResult.FindStringSubmatch(dumpDOM(t, bin, probe))
	if m == nil || m[2] != strconv.Itoa(images-1) {
		t.Errorf("a broken image went unnoticed: %v", m)
	}
}

// dumpDOM loads file in headless Chromium and returns the DOM once the
// page has loaded. Chromium runs in its own process group, killed whole
// if it overruns.
func dumpDOM(t *testing.T, bin, file string) string {
	t.Helper()
	profile, err := os.MkdirTemp("", "gale-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+profile, "--virtual-time-budget=10000",
		"--dump-dom", "file://"+file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers it left behind
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, lastLines(stderr.String(), 15))
	}
	return stdout.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
