// Package tempdir owns mtlsbench's temporary directories: a managed
// server's configuration and key, serve's generated PKI. Each is named
// mtlsbench-KIND-* in the temporary directory (TMPDIR), is removed by
// Remove on the normal path and by cleanup.Run on the paths that skip it
// (a second interrupt, a panic in main), and carries an owner marker: the
// PID of the process that made it, that process's start time (so a reused
// PID is not mistaken for the owner), the boot it ran in and its PID
// namespace. A process killed with SIGKILL cannot clean up; Sweep, which
// every start of mtlsbench runs, removes the directories whose owner is
// gone — only those with a valid marker, owned by this user, and made in
// this PID namespace; never anything else.
package tempdir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
)

// Prefix begins the name of every directory New makes.
const Prefix = "mtlsbench-"

// MarkerFile is the owner marker's name inside each directory.
const MarkerFile = ".mtlsbench-owner"

// markerMax bounds how much of a marker Sweep reads; a real one is about
// 150 bytes.
const markerMax = 512

// Dir is a temporary directory this process owns.
type Dir struct {
	path       string
	unregister func()
	once       sync.Once
	err        error
}

// New makes a new directory Prefix+kind+"-*" in os.TempDir(), mode 0700,
// with its owner marker, and registers its removal with cleanup. The
// caller removes it with Remove. kind must not contain a path separator.
func New(kind string) (*Dir, error) {
	if kind == "" || strings.ContainsRune(kind, os.PathSeparator) {
		return nil, fmt.Errorf("tempdir: bad kind %q", kind)
	}
	path, err := os.MkdirTemp("", Prefix+kind+"-*")
	if err != nil {
		return nil, fmt.Errorf("tempdir: %w", err)
	}
	d := &Dir{path: path}
	// Registered before anything else can fail, so no path leaves it.
	d.unregister = cleanup.Register(func() { _ = os.RemoveAll(path) })
	if err := writeMarker(path); err != nil {
		d.Remove()
		return nil, err
	}
	return d, nil
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// Remove removes the directory and everything in it; later calls return
// the first call's result.
func (d *Dir) Remove() error {
	d.once.Do(func() {
		if err := os.RemoveAll(d.path); err != nil {
			d.err = fmt.Errorf("tempdir: %w", err)
		}
		d.unregister()
	})
	return d.err
}

// Owner identifies a process across PID reuse and reboots.
type Owner struct {
	PID int
	// Start is the process's start time in clock ticks after boot, field
	// 22 of /proc/PID/stat.
	Start uint64
	// Boot is /proc/sys/kernel/random/boot_id: a start time counts from
	// one boot.
	Boot string
	// PIDNamespace is the link /proc/self/ns/pid ("pid:[4026531836]"): a
	// PID means something only in its namespace.
	PIDNamespace string
}

var (
	selfOnce sync.Once
	self     Owner
	selfErr  error
)

// Self is this process as an Owner.
func Self() (Owner, error) {
	selfOnce.Do(func() {
		self.PID = os.Getpid()
		if self.Start, selfErr = startTime(self.PID); selfErr != nil {
			return
		}
		var boot []byte
		if boot, selfErr = os.ReadFile("/proc/sys/kernel/random/boot_id"); selfErr != nil {
			return
		}
		self.Boot = strings.TrimSpace(string(boot))
		self.PIDNamespace, selfErr = os.Readlink("/proc/self/ns/pid")
	})
	if selfErr != nil {
		return Owner{}, fmt.Errorf("tempdir: who am I: %w", selfErr)
	}
	return self, nil
}

const markerHeader = "mtlsbench temporary directory"

// String is the marker's content.
func (o Owner) String() string {
	return fmt.Sprintf("%s\npid %d\nstart %d\nboot %s\npidns %s\n", markerHeader, o.PID, o.Start, o.Boot, o.PIDNamespace)
}

// ParseOwner reads a marker's content. It accepts exactly what String
// writes.
func ParseOwner(data []byte) (Owner, error) {
	bad := func(why string) (Owner, error) {
		return Owner{}, fmt.Errorf("tempdir: not an owner marker: %s", why)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) != 6 || lines[5] != "" || lines[0] != markerHeader {
		return bad("wrong shape")
	}
	field := func(line, key string) (string, bool) {
		v, ok := strings.CutPrefix(line, key+" ")
		return v, ok && v != "" && !strings.ContainsAny(v, " \t\r")
	}
	var o Owner
	pid, ok1 := field(lines[1], "pid")
	start, ok2 := field(lines[2], "start")
	boot, ok3 := field(lines[3], "boot")
	ns, ok4 := field(lines[4], "pidns")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return bad("missing field")
	}
	n, err := decimal(pid)
	if err != nil || n == 0 || n > math.MaxInt32 {
		return bad("pid " + strconv.Quote(pid))
	}
	o.PID = int(n)
	if o.Start, err = decimal(start); err != nil {
		return bad("start " + strconv.Quote(start))
	}
	o.Boot, o.PIDNamespace = boot, ns
	return o, nil
}

// decimal parses digits as String writes them: no sign, no leading zero.
func decimal(s string) (uint64, error) {
	if s == "" || s[0] == '+' || (s[0] == '0' && len(s) > 1) {
		return 0, errors.New("not a decimal")
	}
	return strconv.ParseUint(s, 10, 64)
}

func writeMarker(dir string) error {
	o, err := Self()
	if err != nil {
		// Without /proc the directory cannot be claimed; it is still
		// removed on every path but SIGKILL.
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, MarkerFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("tempdir: owner marker: %w", err)
	}
	_, err = io.WriteString(f, o.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tempdir: owner marker: %w", err)
	}
	return nil
}

// startTime reads field 22 of /proc/PID/stat: the process's start time in
// clock ticks after boot. It returns an error wrapping fs.ErrNotExist for
// a process that does not exist, and errGone for a zombie.
func startTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold anything;
	// the fields after its last ')' start with field 3, the state.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("tempdir: malformed /proc stat")
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return 0, errors.New("tempdir: malformed /proc stat")
	}
	if fields[0] == "Z" || fields[0] == "X" {
		return 0, errGone
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

var errGone = errors.New("tempdir: process has exited")

// Gone reports whether o's process has certainly ended: another boot, no
// process with its PID, a zombie, or a process with its PID but another
// start time. When that cannot be told (another PID namespace, /proc
// unreadable) it reports false.
func (o Owner) Gone() bool {
	me, err := Self()
	if err != nil || o.PIDNamespace != me.PIDNamespace {
		return false
	}
	if o.Boot != me.Boot {
		return true
	}
	start, err := startTime(o.PID)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errGone):
		return true
	case err != nil:
		return false
	}
	return start != o.Start
}

// Sweep removes the directories in root that New made for a process that
// is gone, and returns their paths. It considers only an entry named
// Prefix+"*" that is a directory (not a link to one) owned by this user,
// holding a regular MarkerFile owned by this user that ParseOwner accepts,
// whose Owner is Gone. Anything else — a directory without a marker (one
// being made, or not mtlsbench's), a marker it cannot read, an owner it
// cannot judge — it leaves alone. The error joins what it could not
// remove.
func Sweep(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("tempdir: sweep %s: %w", root, err)
	}
	uid := os.Geteuid()
	var removed []string
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), Prefix) || !e.IsDir() {
			continue
		}
		path := filepath.Join(root, e.Name())
		fi, err := os.Lstat(path)
		if err != nil || !fi.IsDir() || ownerUID(fi) != uid {
			continue
		}
		o, err := readMarker(filepath.Join(path, MarkerFile), uid)
		if err != nil || !o.Gone() {
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("tempdir: sweep: %w", errors.Join(errs...))
	}
	return removed, nil
}

// readMarker reads a marker that is a regular file owned by uid, never
// through a link and never blocking on a FIFO.
func readMarker(path string, uid int) (Owner, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return Owner{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Owner{}, err
	}
	if !fi.Mode().IsRegular() || ownerUID(fi) != uid || fi.Size() > markerMax {
		return Owner{}, errors.New("tempdir: not an owner marker")
	}
	data, err := io.ReadAll(io.LimitReader(f, markerMax+1))
	if err != nil {
		return Owner{}, err
	}
	return ParseOwner(data)
}

func ownerUID(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
