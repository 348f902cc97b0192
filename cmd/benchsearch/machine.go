package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/neomem/neomem/cypher"
)

// Run is what both reports say first: when and how the run was started, on
// which code and which machine.
type Run struct {
	Date string `json:"date"`
	// Command is how the run was started (the make target with its
	// variables); Args is the benchmark command line itself.
	Command string   `json:"command"`
	Args    []string `json:"args"`
	// Commit is the git commit the benchmark ran on; Modified lists the
	// tracked files that differed from it.
	Commit   string   `json:"git_commit,omitempty"`
	Modified []string `json:"git_modified,omitempty"`
	Machine  Machine  `json:"machine"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs           int     `json:"nproc"`
	CPUModel       string  `json:"cpu_model"`
	MemoryGiB      float64 `json:"memory_gib"`
	OS             string  `json:"os_arch"`
	GoVersion      string  `json:"go_version"`
	Neo4jVersion   string  `json:"neo4j_version"`
	Neo4jEdition   string  `json:"neo4j_edition"`
	Neo4jHeap      string  `json:"neo4j_heap,omitempty"`
	Neo4jPageCache string  `json:"neo4j_pagecache,omitempty"`
	Neo4jURI       string  `json:"neo4j_uri"`
	// Neo4jPID, ServerPID and ServerEnv are the HTTP benchmark's: the
	// processes whose CPU it reads and the server's settings (no secrets).
	Neo4jPID     int      `json:"neo4j_pid,omitempty"`
	LoadAvgStart string   `json:"loadavg_start"`
	LoadAvgEnd   string   `json:"loadavg_end"`
	ServerPID    int      `json:"server_pid,omitempty"`
	ServerEnv    []string `json:"server_env,omitempty"`
}

// newRun describes a run that started at start with the command line args
// on the Neo4j info describes.
func newRun(ctx context.Context, start time.Time, command string, args []string, info cypher.ServerInfo, uri string, getenv func(string) string) Run {
	r := Run{
		Date:    start.UTC().Format(time.RFC3339),
		Command: command,
		Args:    args,
		Machine: machine(info, uri, getenv),
	}
	r.Commit, r.Modified = gitState(ctx)
	return r
}

// machine describes this machine and the server.
func machine(info cypher.ServerInfo, uri string, getenv func(string) string) Machine {
	m := Machine{
		CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(),
		Neo4jVersion: info.Version, Neo4jEdition: info.Edition, Neo4jURI: uri,
		Neo4jHeap: getenv("NEO4J_HEAP"), Neo4jPageCache: getenv("NEO4J_PAGECACHE"), LoadAvgStart: loadavg(),
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					m.MemoryGiB = math.Round(kb/1024/1024*10) / 10
				}
			}
		}
	}
	return m
}

// gitState returns the commit the code was built from and the tracked files
// that differed from it (best effort: empty outside a git work tree).
func gitState(ctx context.Context) (string, []string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", nil
	}
	commit := strings.TrimSpace(string(out))
	out, err = exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil {
		return commit, nil
	}
	var modified []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if len(line) > 3 {
			modified = append(modified, strings.TrimSpace(line[3:]))
		}
	}
	return commit, modified
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func mib(bytes int64) float64 { return math.Round(float64(bytes)/(1<<20)*10) / 10 }

// rssBytes is a process's resident set (VmRSS of /proc/PID/status).
func rssBytes(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// the benchmark runs on (Go has no sysconf without cgo).
const clockTicks = 100

// cpuSeconds is the CPU time (user + system, all threads) a process has used
// so far, from /proc/PID/stat; 0 when pid is 0 or unreadable.
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'. utime and stime are fields 14 and 15.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTicks
}

// machineBusySeconds is the CPU time all CPUs of the machine have spent
// working so far (not idle, not waiting for I/O, not stolen by the
// hypervisor), from /proc/stat.
func machineBusySeconds() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i == 7 { // idle, iowait, steal
			continue
		}
		if i >= 8 { // guest time is already in user time
			break
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / clockTicks
}

// listenerPID finds the process listening on a TCP port of this machine
// (Neo4j's Bolt port, to account its CPU), through /proc/net/tcp{,6} and the
// processes' socket descriptors; 0 when it is not found (another user's
// process, say).
func listenerPID(port int) int {
	inodes := map[string]bool{}
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(f[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); ok && err == nil && int(p) == port {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		fds, err := os.ReadDir(filepath.Join(dir, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join(dir, "fd", fd.Name())); err == nil && inodes[link] {
				pid, _ := strconv.Atoi(filepath.Base(dir))
				return pid
			}
		}
	}
	return 0
}

// isJava reports whether pid runs a Java virtual machine (Neo4j).
func isJava(pid int) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	exe, _, _ := strings.Cut(string(cmdline), "\x00")
	return filepath.Base(exe) == "java"
}
