// read_stack: what `pulumi up` hands a program from a stack file, computed with Go's
// yaml.v3 (the library and version Pulumi reads stack files with) by the same steps as
// Pulumi's LoadProjectStackBytes and its config values (sdk/go/common/workspace/loaders.go,
// sdk/go/common/resource/config/object.go), re-written here in a few lines.
//
// It is the reference the Python reader (tools/pushpools_tools/stack_yaml.py) is checked
// against: tests/test_stack_yaml.py holds the answers it gave. See docs/verification.md.
//
// Usage: read_stack PROJECT FILE...   prints one JSON line per file:
// {"file": ..., "config": {"ns:key": {"text": ..., "secure": bool}}} or {"file", "error"}.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

type entry struct {
	Text   string `json:"text"`
	Secure bool   `json:"secure"`
}

type result struct {
	File   string           `json:"file"`
	Config map[string]entry `json:"config,omitempty"`
	Error  string           `json:"error,omitempty"`
}

func main() {
	project := os.Args[1]
	out := json.NewEncoder(os.Stdout)
	for _, file := range os.Args[2:] {
		config, err := read(project, file)
		r := result{File: file, Config: config}
		if err != nil {
			r.Error = err.Error()
			r.Config = nil
		}
		out.Encode(r)
	}
}

func read(project, file string) (config map[string]entry, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimPrefix(b, []byte{0xef, 0xbb, 0xbf})
	// First pass: the whole file into plain Go values.
	var raw any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("invalid YAML file: %w", err)
	}
	if raw == nil {
		return map[string]entry{}, nil
	}
	top, err := simplify(raw)
	if err != nil {
		return nil, err
	}
	stack, ok := top.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected project to be an object, was '%T'", top)
	}
	if c, ok := stack["config"].(map[string]any); ok {
		named := map[string]any{}
		for k, v := range c {
			if !strings.Contains(k, ":") {
				k = project + ":" + k
			}
			named[k] = v
		}
		stack["config"] = named
	}
	// Second pass: written out as YAML again and read into the config map's values.
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	_ = enc.Encode(stack) // Pulumi ignores this error too
	var second struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(buf.Bytes(), &second); err != nil {
		return nil, fmt.Errorf("invalid YAML file: %w", err)
	}
	config = map[string]entry{}
	keys := map[string]string{}
	for k, node := range second.Config {
		key, err := parseKey(k)
		if err != nil {
			return nil, fmt.Errorf("could not unmarshal map: %w", err)
		}
		if other, ok := keys[key]; ok {
			return nil, fmt.Errorf("%q and %q are one key: which wins is random", other, k)
		}
		keys[key] = k
		if node.ShortTag() == "!!null" {
			config[key] = entry{Text: ""}
			continue
		}
		var v any
		if err := node.Decode(&v); err != nil {
			return nil, fmt.Errorf("could not unmarshal map: %w", err)
		}
		obj, secure, err := object(v)
		if err != nil {
			return nil, err
		}
		text, err := marshalText(obj, secure)
		if err != nil {
			return nil, err
		}
		config[key] = entry{Text: text, Secure: secure}
	}
	return config, nil
}

type ciphertext struct{ value string }

// simplify casts maps with non-text keys to text-keyed maps, through such maps and lists only.
func simplify(v any) (any, error) {
	switch t := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, val := range t {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("expected only string keys, got '%s'", k)
			}
			inner, err := simplify(val)
			if err != nil {
				return nil, err
			}
			m[s] = inner
		}
		return m, nil
	case []any:
		a := make([]any, len(t))
		for i, val := range t {
			inner, err := simplify(val)
			if err != nil {
				return nil, err
			}
			a[i] = inner
		}
		return a, nil
	}
	return v, nil
}

// object converts a decoded value the way a config value's object form is built.
func object(v any) (any, bool, error) {
	switch t := v.(type) {
	case bool, int64, uint64, float64, string:
		return t, false, nil
	case int:
		return int64(t), false, nil
	case time.Time:
		return t.String(), false, nil
	case map[string]any:
		if len(t) == 1 {
			if s, ok := t["secure"].(string); ok {
				return ciphertext{s}, true, nil
			}
		}
		m := map[string]any{}
		secure := false
		for k, val := range t {
			o, s, err := object(val)
			if err != nil {
				return nil, false, err
			}
			m[k] = o
			secure = secure || s
		}
		return m, secure, nil
	case map[any]any:
		m := map[string]any{}
		for k, val := range t {
			m[fmt.Sprintf("%v", k)] = val
		}
		return object(m)
	case []any:
		a := make([]any, len(t))
		secure := false
		for i, val := range t {
			o, s, err := object(val)
			if err != nil {
				return nil, false, err
			}
			a[i] = o
			secure = secure || s
		}
		return a, secure, nil
	case nil:
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("unexpected wire type %T", v)
}

func marshalText(v any, secure bool) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case ciphertext:
		return "[secret]", nil
	}
	b, err := json.Marshal(masked(v))
	return string(b), err
}

func masked(v any) any {
	switch t := v.(type) {
	case ciphertext:
		return "[secret]"
	case map[string]any:
		m := map[string]any{}
		for k, val := range t {
			m[k] = masked(val)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, val := range t {
			a[i] = masked(val)
		}
		return a
	}
	return v
}

// parseKey: `ns:name`, or the old `ns:config:name`.
func parseKey(s string) (string, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
		return s, nil
	case 3:
		if parts[1] == "config" {
			return parts[0] + ":" + parts[2], nil
		}
	}
	return "", fmt.Errorf("could not parse %s as a configuration key "+
		"(configuration keys should be of the form `<namespace>:<name>`)", s)
}

