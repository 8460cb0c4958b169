package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// EnvVarPrefix is the prefix of environment variables that set variables:
// ADSHIFT_VAR_name=value.
const EnvVarPrefix = "ADSHIFT_VAR_"

// Inputs collects variable values in precedence order: environment
// variables, then -var-file and -var flags in the order given (later ones
// win).
type Inputs map[string]*InputValue

// AddEnv adds ADSHIFT_VAR_ values from environ (os.Environ() form).
func (in Inputs) AddEnv(environ []string) {
	for _, kv := range environ {
		if !strings.HasPrefix(kv, EnvVarPrefix) {
			continue
		}
		name, val, _ := strings.Cut(kv[len(EnvVarPrefix):], "=")
		if name == "" {
			continue
		}
		in[name] = &InputValue{Raw: val, Source: "environment variable " + EnvVarPrefix + name, FromEnv: true}
	}
}

// AddFlag adds one -var NAME=VALUE flag.
func (in Inputs) AddFlag(arg string) hcl.Diagnostics {
	name, val, ok := strings.Cut(arg, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid -var option",
			Detail:   "The -var option " + quote(arg) + " is not of the form NAME=VALUE. Write -var 'name=value'.",
		}}
	}
	in[name] = &InputValue{Raw: val, Source: "-var flag"}
	return nil
}

// AddFile adds every attribute of a -var-file, parsed with p so that
// diagnostics can show its lines.
func (in Inputs) AddFile(p *Parser, path string) hcl.Diagnostics {
	f, diags := p.ParseHCLFile(path)
	if diags.HasErrors() {
		return diags
	}
	attrs, d := f.Body.JustAttributes()
	diags = append(diags, d...)
	for name, attr := range attrs {
		in[name] = &InputValue{Expr: attr.Expr, Source: attr.Range.String()}
	}
	return diags
}
