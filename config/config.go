package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Config is one loaded configuration directory.
type Config struct {
	// Dir is the directory the files were read from.
	Dir string
	// Files maps file names (as given to the parser) to their parsed form,
	// for rendering diagnostics with source snippets.
	Files map[string]*hcl.File
	// Hash is a digest of every file's name and bytes; a saved plan records
	// it so apply can refuse a plan made from another configuration.
	Hash string

	Settings       *Settings
	Variables      map[string]*Variable
	Locals         map[string]*Local
	Environments   map[string]*Environment
	Workflows      map[string]*Workflow
	Repositories   map[string]*Repository
	Proxies        map[string]*Proxy
	Hubs           map[string]*Hub
	DeviceCutovers map[string]*DeviceCutover
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "adshift"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "environment", LabelNames: []string{"name"}},
		{Type: "workflow", LabelNames: []string{"name"}},
		{Type: "repository", LabelNames: []string{"name"}},
		{Type: "proxy", LabelNames: []string{"name"}},
		{Type: "hub", LabelNames: []string{"name"}},
		{Type: "device_cutover", LabelNames: []string{"name"}},
	},
}

// Parser reads configuration files. Its Files map is what diagnostics are
// rendered against, so keep it for the whole command.
type Parser struct {
	p *hclparse.Parser
}

// NewParser returns a Parser.
func NewParser() *Parser { return &Parser{p: hclparse.NewParser()} }

// Files returns every file the parser has read, by name.
func (p *Parser) Files() map[string]*hcl.File { return p.p.Files() }

// ParseHCLFile parses one HCL file (for -var-file and tests).
func (p *Parser) ParseHCLFile(path string) (*hcl.File, hcl.Diagnostics) {
	return p.p.ParseHCLFile(path)
}

// ConfigFiles lists the *.hcl files of dir in name order.
func ConfigFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// LoadDir reads every *.hcl file of dir as one configuration. File names in
// diagnostics are relative to dir, as the user would type them.
func (p *Parser) LoadDir(dir string) (*Config, hcl.Diagnostics) {
	names, err := ConfigFiles(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration directory",
			Detail:   err.Error() + ". Run adshift in the directory holding your *.hcl files, or pass -chdir=DIR.",
		}}
	}
	if len(names) == 0 {
		abs, _ := filepath.Abs(dir)
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   "The directory " + abs + " holds no *.hcl files. Run adshift in the directory holding your configuration, pass -chdir=DIR, or start from examples/quickstart.",
		}}
	}
	var diags hcl.Diagnostics
	var files []*hcl.File
	h := sha256.New()
	for _, name := range names {
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read configuration file",
				Detail:   err.Error(),
			})
			continue
		}
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(src)
		h.Write([]byte{0})
		f, fdiags := p.p.ParseHCL(src, name)
		diags = append(diags, fdiags...)
		if f != nil {
			files = append(files, f)
		}
	}
	cfg, cdiags := Decode(files)
	diags = append(diags, cdiags...)
	cfg.Dir = dir
	cfg.Files = p.p.Files()
	cfg.Hash = hex.EncodeToString(h.Sum(nil))
	return cfg, diags
}

func newConfig() *Config {
	return &Config{
		Settings:       &Settings{},
		Variables:      map[string]*Variable{},
		Locals:         map[string]*Local{},
		Environments:   map[string]*Environment{},
		Workflows:      map[string]*Workflow{},
		Repositories:   map[string]*Repository{},
		Proxies:        map[string]*Proxy{},
		Hubs:           map[string]*Hub{},
		DeviceCutovers: map[string]*DeviceCutover{},
	}
}

// Decode decodes parsed files into one Config and validates it.
func Decode(files []*hcl.File) (*Config, hcl.Diagnostics) {
	cfg := newConfig()
	var diags hcl.Diagnostics
	var settingsSeen *hcl.Range
	for _, f := range files {
		content, cdiags := f.Body.Content(rootSchema)
		diags = append(diags, cdiags...)
		for _, block := range content.Blocks {
			switch block.Type {
			case "adshift":
				if settingsSeen != nil {
					diags = append(diags, duplicate("adshift block", "", block.DefRange, *settingsSeen))
					continue
				}
				r := block.DefRange
				settingsSeen = &r
				s, d := decodeSettings(block)
				diags = append(diags, d...)
				cfg.Settings = s
			case "variable":
				v, d := decodeVariable(block)
				diags = append(diags, d...)
				if v != nil {
					diags = append(diags, addUnique(cfg.Variables, v.Name, v, "variable", block, func(x *Variable) hcl.Range { return x.DeclRange })...)
				}
			case "locals":
				ls, d := decodeLocals(block)
				diags = append(diags, d...)
				for _, l := range ls {
					if prev, ok := cfg.Locals[l.Name]; ok {
						diags = append(diags, duplicate("local value", l.Name, l.DeclRange, prev.DeclRange))
						continue
					}
					cfg.Locals[l.Name] = l
				}
			case "environment":
				e, d := decodeEnvironment(block)
				diags = append(diags, d...)
				if e != nil {
					diags = append(diags, addUnique(cfg.Environments, e.Name, e, "environment", block, func(x *Environment) hcl.Range { return x.DeclRange })...)
				}
			case "workflow":
				w, d := decodeWorkflow(block)
				diags = append(diags, d...)
				if w != nil {
					diags = append(diags, addUnique(cfg.Workflows, w.Name, w, "workflow", block, func(x *Workflow) hcl.Range { return x.DeclRange })...)
				}
			case "repository":
				r, d := decodeRepository(block)
				diags = append(diags, d...)
				if r != nil {
					diags = append(diags, addUnique(cfg.Repositories, r.Name, r, "repository", block, func(x *Repository) hcl.Range { return x.DeclRange })...)
				}
			case "proxy":
				px, d := decodeProxy(block)
				diags = append(diags, d...)
				if px != nil {
					diags = append(diags, addUnique(cfg.Proxies, px.Name, px, "proxy", block, func(x *Proxy) hcl.Range { return x.DeclRange })...)
				}
			case "hub":
				h, d := decodeHub(block)
				diags = append(diags, d...)
				if h != nil {
					diags = append(diags, addUnique(cfg.Hubs, h.Name, h, "hub", block, func(x *Hub) hcl.Range { return x.DeclRange })...)
				}
			case "device_cutover":
				dc, d := decodeDeviceCutover(block)
				diags = append(diags, d...)
				if dc != nil {
					diags = append(diags, addUnique(cfg.DeviceCutovers, dc.Name, dc, "device_cutover", block, func(x *DeviceCutover) hcl.Range { return x.DeclRange })...)
				}
			}
		}
	}
	diags = append(diags, cfg.resolveReferences()...)
	return cfg, diags
}

func addUnique[T any](m map[string]T, name string, v T, kind string, block *hcl.Block, rng func(T) hcl.Range) hcl.Diagnostics {
	if prev, ok := m[name]; ok {
		return hcl.Diagnostics{duplicate(kind, name, block.DefRange, rng(prev))}
	}
	m[name] = v
	return nil
}

func duplicate(kind, name string, at, prev hcl.Range) *hcl.Diagnostic {
	what := kind
	if name != "" {
		what = kind + " " + quote(name)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + kind,
		Detail:   "A " + what + " was already declared at " + prev.String() + ". Names must be unique across all files of the configuration; rename or remove one of them.",
		Subject:  at.Ptr(),
	}
}

func quote(s string) string { return `"` + s + `"` }
