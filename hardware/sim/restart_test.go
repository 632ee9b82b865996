package sim_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hardware/sim"
)

// TestKilledDriverReopen plays a kiosk daemon that is SIGKILLed with the
// port open and restarted: the simulator's path must stay, and after
// ReleaseExclusive a new process (here: this one) can open it again.
func TestKilledDriverReopen(t *testing.T) {
	t.Parallel()
	dev := newScanner(t, sim.ScannerOptions{})

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dev.Path())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "open" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper process said %q, %v; want %q", line, err, "open")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if !exclusive(t, dev.Path()) {
		t.Log("the killed process left no exclusive flag; the kernel may have changed")
	}
	if err := dev.ReleaseExclusive(); err != nil {
		t.Fatalf("ReleaseExclusive() = %v", err)
	}
	if exclusive(t, dev.Path()) {
		t.Error("the port is still exclusive after ReleaseExclusive")
	}

	p := openPort(t, dev.Path())
	if err := dev.Send("after restart"); err != nil {
		t.Fatal(err)
	}
	if got, _ := readN(testContext(t), t, p, len("after restart\r\n")); string(got) != "after restart\r\n" {
		t.Errorf("read %q after reopening, want %q", got, "after restart\r\n")
	}
}
