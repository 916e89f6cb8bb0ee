// Command porcupine_driver checks history files with Porcupine, the Go linearizability
// checker (https://github.com/anishathalye/porcupine), and times its own reading and checking.
//
// It is the Go half of tests/benchmarks/compare_porcupine.py, which builds it against a local
// clone of Porcupine and runs it side by side with distlib's checker; see that script for how
// to get Go and Porcupine. The readers and models below are written for this comparison and
// follow distlib.check.formats and distlib.check.models, so both checkers judge the same
// histories by the same rules.
//
// Usage:
//
//	porcupine_driver [-repeat N] < manifest
//
// Each manifest line is "<format>\t<path>", format one of jepsen-etcd, porcupine-kv,
// knossos-edn. For every file the driver prints "verdict\t<path>\t<ok|illegal|unknown>" (from
// the first run); then "time\t<cpu seconds>\t<wall seconds>": the best over N runs of the time
// to read and check all the files in turn (CPU time is the process's user + system time); and
// "memory\t<kB>", the process's peak resident memory (VmHWM of /proc/self/status on Linux: the
// maximum RSS that getrusage gives would include the memory of the process that started it).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
)

// ---------------------------------------------------------------------------------------------
// A small EDN reader: nil, booleans, integers, keywords, strings, vectors, lists and maps,
// with commas as whitespace and ";" comments. Enough for Porcupine's kv files and Knossos's
// histories.

type keyword string

type ednMap map[keyword]interface{}

type ednReader struct {
	s   string
	pos int
}

func (r *ednReader) skip() {
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			r.pos++
		case c == ';':
			for r.pos < len(r.s) && r.s[r.pos] != '\n' {
				r.pos++
			}
		default:
			return
		}
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', '[', ']', '(', ')', '{', '}', '"', ';':
		return true
	}
	return false
}

// value reads one element; closed is true when it met a closing bracket instead.
func (r *ednReader) value() (v interface{}, closed bool) {
	r.skip()
	if r.pos >= len(r.s) {
		panic("unexpected end of EDN text")
	}
	c := r.s[r.pos]
	switch c {
	case ']', ')', '}':
		r.pos++
		return nil, true
	case '[', '(':
		r.pos++
		var items []interface{}
		for {
			item, end := r.value()
			if end {
				return items, false
			}
			items = append(items, item)
		}
	case '{':
		r.pos++
		m := ednMap{}
		for {
			k, end := r.value()
			if end {
				return m, false
			}
			val, end := r.value()
			if end {
				panic("an EDN map needs key value pairs")
			}
			kw, ok := k.(keyword)
			if !ok {
				panic(fmt.Sprintf("map key %v is not a keyword", k))
			}
			m[kw] = val
		}
	case '"':
		start := r.pos + 1
		end := start
		escaped := false
		for end < len(r.s) && r.s[end] != '"' {
			if r.s[end] == '\\' {
				escaped = true
				end++
			}
			end++
		}
		r.pos = end + 1
		text := r.s[start:end]
		if escaped {
			unquoted, err := strconv.Unquote(`"` + text + `"`)
			if err != nil {
				panic(err)
			}
			text = unquoted
		}
		return text, false
	}
	start := r.pos
	for r.pos < len(r.s) && !isDelimiter(r.s[r.pos]) {
		r.pos++
	}
	token := r.s[start:r.pos]
	switch {
	case token == "nil":
		return nil, false
	case token == "true":
		return true, false
	case token == "false":
		return false, false
	case token[0] == ':':
		return keyword(token[1:]), false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(token, "N"))
	if err != nil {
		panic(fmt.Sprintf("cannot read the EDN atom %q", token))
	}
	return n, false
}

// ---------------------------------------------------------------------------------------------
// Histories as Porcupine events. Each reader keeps the open operation of every process; an
// operation that never completes gets its return event after all the others.

type recorder struct {
	events []porcupine.Event
	open   map[string]int // process -> index of its open call event
	nextID int
}

func newRecorder() *recorder { return &recorder{open: map[string]int{}} }

func (r *recorder) invoke(process string, client int, input interface{}) {
	r.events = append(r.events, porcupine.Event{
		ClientId: client, Kind: porcupine.CallEvent, Value: input, Id: r.nextID})
	r.open[process] = len(r.events) - 1
	r.nextID++
}

func (r *recorder) complete(process string, output interface{}) {
	call, ok := r.open[process]
	if !ok {
		panic("process " + process + " completes an operation it never invoked")
	}
	delete(r.open, process)
	c := r.events[call]
	r.events = append(r.events, porcupine.Event{
		ClientId: c.ClientId, Kind: porcupine.ReturnEvent, Value: output, Id: c.Id})
}

// leaveOpen forgets the open operation of process: it gets its return at the very end.
func (r *recorder) leaveOpen(process string, forever *[]int) {
	if call, ok := r.open[process]; ok {
		*forever = append(*forever, call)
		delete(r.open, process)
	}
}

func (r *recorder) finish(forever []int, unknown interface{}) []porcupine.Event {
	for _, call := range r.open {
		forever = append(forever, call)
	}
	for _, call := range forever {
		c := r.events[call]
		r.events = append(r.events, porcupine.Event{
			ClientId: c.ClientId, Kind: porcupine.ReturnEvent, Value: unknown, Id: c.Id})
	}
	return r.events
}

// A register operation: kind 'r' (read), 'w' (write) or 'c' (cas, a -> b).
type regInput struct {
	kind byte
	a, b int
}

// Its answer: a read's value (isNil for nil), a cas's yes or no, or nothing known.
type regOutput struct {
	unknown bool
	isNil   bool
	value   int
	swapped bool
}

const nilRegister = math.MinInt64 // the state of an empty register

func registerStep(wildcardRead bool) func(state, input, output interface{}) (bool, interface{}) {
	return func(state, input, output interface{}) (bool, interface{}) {
		st := state.(int)
		in := input.(regInput)
		out := output.(regOutput)
		switch in.kind {
		case 'r':
			if out.unknown || (out.isNil && (wildcardRead || st == nilRegister)) {
				return true, st
			}
			return !out.isNil && out.value == st, st
		case 'w':
			return true, in.a
		default:
			if out.unknown {
				if st == in.a {
					return true, in.b
				}
				return true, st
			}
			if out.swapped {
				return st == in.a, in.b
			}
			return st != in.a, st
		}
	}
}

func hashInt(state interface{}) uint64 { return uint64(state.(int)) * 0x9e3779b97f4a7c15 }

// readEtcd reads a Jepsen etcd log: "INFO jepsen.util - <process> <:type> <:f> <value>".
func readEtcd(text string) ([]porcupine.Event, porcupine.Model) {
	rec := newRecorder()
	var forever []int
	abandoned := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 7 {
			continue
		}
		process, kind, f := fields[3], fields[4], fields[5]
		client, _ := strconv.Atoi(process)
		switch kind {
		case ":invoke":
			if abandoned[process] {
				rec.leaveOpen(process, &forever)
				delete(abandoned, process)
			}
			in := regInput{}
			switch f {
			case ":read":
				in.kind = 'r'
			case ":write":
				in.kind = 'w'
				in.a, _ = strconv.Atoi(fields[6])
			case ":cas":
				in.kind = 'c'
				in.a, _ = strconv.Atoi(strings.TrimPrefix(fields[6], "["))
				in.b, _ = strconv.Atoi(strings.TrimSuffix(fields[7], "]"))
			}
			rec.invoke(process, client, in)
		case ":ok":
			delete(abandoned, process)
			out := regOutput{swapped: true}
			if f == ":read" {
				if fields[6] == "nil" {
					out.isNil = true
				} else {
					out.value, _ = strconv.Atoi(fields[6])
				}
			}
			rec.complete(process, out)
		case ":fail":
			delete(abandoned, process)
			if f == ":cas" {
				rec.complete(process, regOutput{swapped: false})
			} else {
				rec.complete(process, regOutput{unknown: true})
			}
		case ":info":
			abandoned[process] = true
		}
	}
	model := porcupine.Model{
		Init: func() interface{} { return nilRegister },
		Step: registerStep(false),
		Hash: hashInt,
	}
	return rec.finish(forever, regOutput{unknown: true}), model
}

type kvInput struct {
	f          byte // 'g' get, 'p' put, 'a' append
	key, value string
}

type kvOutput struct{ value string }

// readKv reads one of Porcupine's key-value histories: one EDN map per line.
func readKv(text string) ([]porcupine.Event, porcupine.Model) {
	rec := newRecorder()
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		v, _ := (&ednReader{s: line}).value()
		m := v.(ednMap)
		client := m["process"].(int)
		process := strconv.Itoa(client)
		value, _ := m["value"].(string)
		if m["type"].(keyword) == "invoke" {
			rec.invoke(process, client, kvInput{f: string(m["f"].(keyword))[0], key: m["key"].(string), value: value})
		} else {
			rec.complete(process, kvOutput{value: value})
		}
	}
	model := porcupine.Model{
		PartitionEvent: func(history []porcupine.Event) [][]porcupine.Event {
			byKey := map[string][]porcupine.Event{}
			keyOf := map[int]string{}
			var keys []string
			for _, e := range history {
				if e.Kind == porcupine.CallEvent {
					keyOf[e.Id] = e.Value.(kvInput).key
				}
				k := keyOf[e.Id]
				if _, seen := byKey[k]; !seen {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], e)
			}
			parts := make([][]porcupine.Event, 0, len(keys))
			for _, k := range keys {
				parts = append(parts, byKey[k])
			}
			return parts
		},
		Init: func() interface{} { return "" },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			st := state.(string)
			in := input.(kvInput)
			switch in.f {
			case 'g':
				return output.(kvOutput).value == st, st
			case 'p':
				return true, in.value
			default:
				return true, st + in.value
			}
		},
		Hash: func(state interface{}) uint64 {
			h := fnv.New64a()
			h.Write([]byte(state.(string)))
			return h.Sum64()
		},
	}
	return rec.finish(nil, kvOutput{}), model
}

// A transaction over named registers: micro-operations applied in order.
type micro struct {
	write    bool
	register int
	value    int
	any      bool // a read of nil: matches any value
}

type txnInput struct{ ops []micro }

type txnOutput struct {
	unknown bool
	ops     []micro
}

// readKnossos reads a Knossos history: one EDN vector or list of operation maps. A :fail
// operation never happened; an :info one stays open for ever.
func readKnossos(text string) ([]porcupine.Event, porcupine.Model) {
	r := &ednReader{s: text}
	top, _ := r.value()
	rec := newRecorder()
	var forever []int
	failed := map[int]bool{} // ids of operations that never happened
	registers := map[string]int{}
	txn := false
	toMicro := func(v interface{}) []micro {
		var out []micro
		for _, item := range v.([]interface{}) {
			m := item.([]interface{})
			name := string(m[1].(keyword))
			if _, ok := registers[name]; !ok {
				registers[name] = len(registers)
			}
			x, isInt := m[2].(int)
			out = append(out, micro{write: m[0].(keyword) == "write", register: registers[name], value: x, any: !isInt})
		}
		return out
	}
	for _, item := range top.([]interface{}) {
		m := item.(ednMap)
		p, isInt := m["process"].(int)
		if !isInt {
			continue // the nemesis
		}
		process := strconv.Itoa(p)
		f := m["f"].(keyword)
		v := m["value"]
		switch m["type"].(keyword) {
		case "invoke":
			in := regInput{}
			switch f {
			case "read":
				in.kind = 'r'
			case "write":
				in.kind = 'w'
				in.a = v.(int)
			case "cas":
				in.kind = 'c'
				pair := v.([]interface{})
				in.a, in.b = pair[0].(int), pair[1].(int)
			case "txn":
				txn = true
				rec.invoke(process, p, txnInput{toMicro(v)})
				continue
			}
			rec.invoke(process, p, in)
		case "ok":
			if f == "txn" {
				rec.complete(process, txnOutput{ops: toMicro(v)})
			} else if x, isInt := v.(int); isInt || f != "read" {
				rec.complete(process, regOutput{swapped: true, value: x})
			} else {
				rec.complete(process, regOutput{isNil: true})
			}
		case "fail":
			failed[rec.events[rec.open[process]].Id] = true
			if f == "txn" {
				rec.complete(process, txnOutput{unknown: true})
			} else {
				rec.complete(process, regOutput{unknown: true})
			}
		case "info":
			rec.leaveOpen(process, &forever)
		}
	}
	var events []porcupine.Event
	var unknown interface{} = regOutput{unknown: true}
	if txn {
		unknown = txnOutput{unknown: true}
	}
	for _, e := range rec.finish(forever, unknown) {
		if !failed[e.Id] {
			events = append(events, e)
		}
	}
	if !txn {
		return events, porcupine.Model{
			Init: func() interface{} { return 0 },
			Step: registerStep(true),
			Hash: hashInt,
		}
	}
	// The registers' values, in the order first named, as a string "v0,v1,...".
	width := len(registers)
	model := porcupine.Model{
		Init: func() interface{} { return strings.TrimSuffix(strings.Repeat("0,", width), ",") },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			out := output.(txnOutput)
			ops := out.ops
			if out.unknown {
				ops = input.(txnInput).ops
			}
			values := strings.Split(state.(string), ",")
			for _, m := range ops {
				if m.write {
					values[m.register] = strconv.Itoa(m.value)
				} else if !out.unknown && !m.any && values[m.register] != strconv.Itoa(m.value) {
					return false, state
				}
			}
			return true, strings.Join(values, ",")
		},
	}
	return events, model
}

// ---------------------------------------------------------------------------------------------

type job struct{ format, path string }

func checkFile(j job) porcupine.CheckResult {
	data, err := os.ReadFile(j.path)
	if err != nil {
		panic(err)
	}
	text := string(data)
	var events []porcupine.Event
	var model porcupine.Model
	switch j.format {
	case "jepsen-etcd":
		events, model = readEtcd(text)
	case "porcupine-kv":
		events, model = readKv(text)
	case "knossos-edn":
		events, model = readKnossos(text)
	default:
		panic("unknown format " + j.format)
	}
	return porcupine.CheckEventsTimeout(model, events, 0)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func main() {
	repeat := flag.Int("repeat", 1, "runs over all the files; the best time is printed")
	flag.Parse()
	var jobs []job
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, "\t", 2)
		jobs = append(jobs, job{parts[0], parts[1]})
	}
	names := map[porcupine.CheckResult]string{
		porcupine.Ok: "ok", porcupine.Illegal: "illegal", porcupine.Unknown: "unknown"}
	bestCPU, bestWall := math.Inf(1), math.Inf(1)
	for run := 0; run < *repeat; run++ {
		cpu, wall := cpuSeconds(), time.Now()
		verdicts := make([]porcupine.CheckResult, len(jobs))
		for i, j := range jobs {
			verdicts[i] = checkFile(j)
		}
		bestCPU = math.Min(bestCPU, cpuSeconds()-cpu)
		bestWall = math.Min(bestWall, time.Since(wall).Seconds())
		if run == 0 {
			for i, j := range jobs {
				fmt.Printf("verdict\t%s\t%s\n", j.path, names[verdicts[i]])
			}
		}
	}
	fmt.Printf("time\t%.6f\t%.6f\n", bestCPU, bestWall)
	fmt.Printf("memory\t%d\n", peakKB())
}

// peakKB is the process's peak resident memory in kB (0 where /proc/self/status is missing).
func peakKB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			kb, _ := strconv.Atoi(fields[1])
			return kb
		}
	}
	return 0
}
