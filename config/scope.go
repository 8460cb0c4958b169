package config

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// Sensitive is the cty mark carried by values derived from a variable
// declared sensitive.
const Sensitive = valueMark("sensitive")

type valueMark string

func (m valueMark) GoString() string { return "config.Sensitive" }

// InputValue is a value for a variable given from outside the
// configuration: a -var flag, a -var-file entry, or an ADSHIFT_VAR_ name
// environment variable.
type InputValue struct {
	// Raw is the text of a -var flag or an environment variable; it is a
	// string for variables without a type or of type string, and an HCL
	// expression otherwise.
	Raw string
	// Expr is set instead of Raw for -var-file entries.
	Expr hcl.Expression
	// Source says where the value came from, for messages ("-var flag",
	// "environment variable ADSHIFT_VAR_x", "vars.hcl:3").
	Source string
	// FromEnv values for undeclared variables are ignored (like Terraform),
	// others are errors.
	FromEnv bool
}

// EvalOptions control Evaluate.
type EvalOptions struct {
	Inputs map[string]*InputValue
	// AllowMissing gives required variables without a value an unknown
	// value instead of an error, so validate can check a configuration
	// without secrets at hand.
	AllowMissing bool
}

// Scope is the evaluated top level of a configuration: variables, locals
// and functions. It is read-only after Evaluate and safe for concurrent use.
type Scope struct {
	Dir    string
	Vars   map[string]cty.Value
	Locals map[string]cty.Value
	// Provided lists the variables that got a value from outside
	// (inputs), for recording non-sensitive ones in a saved plan.
	Provided map[string]bool
	funcs    map[string]function.Function
	ctx      *hcl.EvalContext
}

// EvalContext returns the context top-level expressions evaluate in.
func (s *Scope) EvalContext() *hcl.EvalContext { return s.ctx }

// ObjectContext returns a child context in which source is bound to obj,
// for template and filter expressions evaluated per object.
func (s *Scope) ObjectContext(obj cty.Value) *hcl.EvalContext {
	child := s.ctx.NewChild()
	child.Variables = map[string]cty.Value{"source": obj}
	return child
}

// Evaluate resolves variables and locals, evaluates every expression that
// does not depend on directory data into the blocks' value fields, and
// type-checks the per-object expressions with an unknown source.
func (c *Config) Evaluate(opts EvalOptions) (*Scope, hcl.Diagnostics) {
	s := &Scope{Dir: c.Dir, Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Provided: map[string]bool{}, funcs: Functions(c.Dir)}
	var diags hcl.Diagnostics
	diags = append(diags, c.evalVariables(s, opts)...)
	s.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(s.Vars)},
		Functions: s.funcs,
	}
	diags = append(diags, c.evalLocals(s)...)
	s.ctx.Variables["local"] = cty.ObjectVal(s.Locals)
	diags = append(diags, c.evalBlocks(s)...)
	return s, diags
}

func (c *Config) evalVariables(s *Scope, opts EvalOptions) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := sortedKeys(opts.Inputs)
	for _, name := range names {
		in := opts.Inputs[name]
		if _, ok := c.Variables[name]; !ok && !in.FromEnv {
			var subj *hcl.Range
			if in.Expr != nil {
				subj = in.Expr.Range().Ptr()
			}
			detail := "A value was given for variable " + quote(name) + " (" + in.Source + "), but the configuration declares no such variable."
			if sg := suggest(name, sortedKeys(c.Variables)); sg != "" {
				detail += " Did you mean " + quote(sg) + "?"
			} else {
				detail += ` Declare it with a variable "` + name + `" {} block, or remove the value.`
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable", Detail: detail, Subject: subj})
		}
	}
	for _, name := range sortedKeys(c.Variables) {
		v := c.Variables[name]
		var val cty.Value
		in := opts.Inputs[name]
		switch {
		case in != nil:
			parsed, d := parseInput(v, in)
			diags = append(diags, d...)
			if d.HasErrors() {
				val = cty.UnknownVal(v.Type)
			} else {
				val = parsed
				s.Provided[name] = true
			}
		case !v.Required():
			val = v.Default
		case opts.AllowMissing:
			val = cty.UnknownVal(v.Type)
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail:   fmt.Sprintf("The variable %q has no default. Set it with -var '%s=…', in a -var-file, or with the environment variable ADSHIFT_VAR_%s.", name, name, name),
				Subject:  v.DeclRange.Ptr(),
			})
			val = cty.UnknownVal(v.Type)
		}
		if v.Sensitive {
			val = val.Mark(Sensitive)
		}
		s.Vars[name] = val
	}
	// Validations run once every variable has its value.
	for _, name := range sortedKeys(c.Variables) {
		v := c.Variables[name]
		val := s.Vars[name]
		if !val.IsWhollyKnown() {
			continue
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: val})},
			Functions: s.funcs,
		}
		for _, vd := range v.Validations {
			res, d := vd.Condition.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			res, _ = res.Unmark()
			if res.IsNull() || !res.IsKnown() || res.Type() != cty.Bool {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition", Detail: "The condition must be true or false.", Subject: vd.Condition.Range().Ptr()})
				continue
			}
			if res.True() {
				continue
			}
			msg := "The value is not valid."
			mv, md := vd.ErrorMessage.Value(ctx)
			if !md.HasErrors() {
				if mv.IsMarked() {
					msg = "The error message refers to a sensitive value, so it cannot be shown. Write an error_message that does not include the value."
				} else if mv.Type() == cty.String && !mv.IsNull() {
					msg = mv.AsString()
				}
			}
			where := ""
			if in := opts.Inputs[name]; in != nil {
				where = " (value from " + in.Source + ")"
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   msg + where + "\n\nThis was checked by the validation rule at " + vd.DeclRange.String() + ".",
				Subject:  v.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

func parseInput(v *Variable, in *InputValue) (cty.Value, hcl.Diagnostics) {
	var val cty.Value
	var subj *hcl.Range
	if in.Expr != nil {
		r := in.Expr.Range()
		subj = &r
		ev, d := in.Expr.Value(nil)
		if d.HasErrors() {
			return cty.NilVal, d
		}
		val = ev
	} else if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		val = cty.StringVal(in.Raw)
	} else {
		expr, d := hclsyntax.ParseExpression([]byte(in.Raw), in.Source, hcl.InitialPos)
		if d.HasErrors() {
			return cty.NilVal, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The value for %q (%s) is not a valid expression for type %s: %s.", v.Name, in.Source, v.Type.FriendlyName(), d[0].Summary),
			}}
		}
		ev, d := expr.Value(nil)
		if d.HasErrors() {
			return cty.NilVal, d
		}
		val = ev
	}
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("The value for %q (%s) does not fit its type %s: %s.", v.Name, in.Source, v.Type.FriendlyName(), err),
			Subject:  subj,
		}}
	}
	return conv, nil
}

func (c *Config) evalLocals(s *Scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	state := map[string]int{} // 0 unvisited, 1 in progress, 2 done
	var visit func(name string, stack []string)
	visit = func(name string, stack []string) {
		l := c.Locals[name]
		switch state[name] {
		case 2:
			return
		case 1:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in local values",
				Detail:   "The local values refer to each other in a loop: " + strings.Join(append(stack, name), " → ") + ". Break the loop.",
				Subject:  l.DeclRange.Ptr(),
			})
			return
		}
		state[name] = 1
		for _, tr := range l.Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			if a, ok := tr[1].(hcl.TraverseAttr); ok {
				if _, exists := c.Locals[a.Name]; exists {
					visit(a.Name, append(stack, name))
				}
			}
		}
		s.ctx.Variables["local"] = cty.ObjectVal(s.Locals)
		val, d := l.Expr.Value(s.ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			val = cty.DynamicVal
		}
		s.Locals[name] = val
		state[name] = 2
	}
	for _, name := range sortedKeys(c.Locals) {
		visit(name, nil)
	}
	return diags
}

// evalString evaluates expr to a string; nil expr leaves dst alone.
func evalString(ctx *hcl.EvalContext, expr hcl.Expression, what string, dst *string) hcl.Diagnostics {
	if expr == nil {
		return nil
	}
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	val, _ = val.UnmarkDeep()
	if !val.IsWhollyKnown() {
		return nil
	}
	conv, err := convert.Convert(val, cty.String)
	if err != nil || conv.IsNull() {
		return hcl.Diagnostics{{
			Severity:    hcl.DiagError,
			Summary:     "Incorrect attribute value type",
			Detail:      what + " must be a string.",
			Subject:     expr.Range().Ptr(),
			Expression:  expr,
			EvalContext: ctx,
		}}
	}
	*dst = conv.AsString()
	return nil
}

func evalStrings(ctx *hcl.EvalContext, expr hcl.Expression, what string, dst *[]string) hcl.Diagnostics {
	if expr == nil {
		return nil
	}
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	val, _ = val.UnmarkDeep()
	if !val.IsWhollyKnown() {
		return nil
	}
	conv, err := convert.Convert(val, cty.List(cty.String))
	if err != nil || conv.IsNull() {
		return hcl.Diagnostics{{
			Severity:    hcl.DiagError,
			Summary:     "Incorrect attribute value type",
			Detail:      what + " must be a list of strings, like [\"OU=Staff,DC=source,DC=test\"].",
			Subject:     expr.Range().Ptr(),
			Expression:  expr,
			EvalContext: ctx,
		}}
	}
	out := make([]string, 0, conv.LengthInt())
	for it := conv.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Null list element", Detail: what + " must not contain null.", Subject: expr.Range().Ptr()}}
		}
		out = append(out, ev.AsString())
	}
	*dst = out
	return nil
}

func (c *Config) evalBlocks(s *Scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := s.ctx
	for _, name := range sortedKeys(c.Environments) {
		e := c.Environments[name]
		diags = append(diags, evalString(ctx, e.DomainExpr, "domain", &e.Domain)...)
		diags = append(diags, evalString(ctx, e.BaseDNExpr, "base_dn", &e.BaseDN)...)
		diags = append(diags, evalString(ctx, e.DCExpr, "domain_controller", &e.DomainController)...)
		diags = append(diags, evalString(ctx, e.NetBIOSExpr, "netbios_name", &e.NetBIOSName)...)
		diags = append(diags, evalStrings(ctx, e.IncludeOUsExpr, "include_ous", &e.IncludeOUs)...)
		diags = append(diags, evalStrings(ctx, e.ExcludeOUsExpr, "exclude_ous", &e.ExcludeOUs)...)
	}
	for _, name := range sortedKeys(c.Repositories) {
		r := c.Repositories[name]
		diags = append(diags, evalString(ctx, r.PathExpr, "path", &r.Path)...)
	}
	for _, name := range sortedKeys(c.Proxies) {
		p := c.Proxies[name]
		diags = append(diags, evalString(ctx, p.URLExpr, "url", &p.URL)...)
		diags = append(diags, evalString(ctx, p.UsernameExpr, "username", &p.Username)...)
		diags = append(diags, evalString(ctx, p.PasswordExpr, "password", &p.Password)...)
	}
	unknownSource := s.ObjectContext(cty.DynamicVal)
	for _, name := range sortedKeys(c.Workflows) {
		w := c.Workflows[name]
		for _, kind := range sortedKeys(w.Templates) {
			t := w.Templates[kind]
			for _, e := range []hcl.Expression{t.TargetOU, t.Name} {
				if e != nil {
					_, d := e.Value(unknownSource)
					diags = append(diags, d...)
				}
			}
			for _, a := range t.Attributes {
				v, d := a.Expr.Value(unknownSource)
				diags = append(diags, d...)
				if !d.HasErrors() && v.ContainsMarked() {
					diags = append(diags, SensitiveTemplateDiag(a))
				}
			}
		}
	}
	for _, name := range sortedKeys(c.DeviceCutovers) {
		dc := c.DeviceCutovers[name]
		diags = append(diags, evalStrings(ctx, dc.DeviceOUsExpr, "ous", &dc.DeviceOUs)...)
		diags = append(diags, evalStrings(ctx, dc.DeviceNameExpr, "names", &dc.DeviceNames)...)
		if dc.Filter != nil {
			v, d := dc.Filter.Value(unknownSource)
			diags = append(diags, d...)
			if !d.HasErrors() && v.IsKnown() && !v.IsNull() {
				if _, err := convert.Convert(v, cty.Bool); err != nil {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type", Detail: "filter must be true or false for each device.", Subject: dc.Filter.Range().Ptr()})
				}
			}
		}
		var nb string
		diags = append(diags, evalString(ctx, dc.NotBeforeExpr, "not_before", &nb)...)
		if nb != "" {
			t, err := time.Parse(time.RFC3339, nb)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid not_before time",
					Detail:   quote(nb) + ` is not an RFC 3339 time. Write it like "2026-12-05T22:00:00Z" (UTC) or with an offset, "2026-12-05T23:00:00+01:00".`,
					Subject:  dc.NotBeforeExpr.Range().Ptr(),
				})
			} else {
				dc.NotBefore = t
			}
		}
		diags = append(diags, evalWhole(ctx, dc.BatchSizeExpr, "batch_size", "a whole number of devices, at least 1", 1, &dc.BatchSize)...)
		diags = append(diags, evalWhole(ctx, dc.MaxFailuresExpr, "max_failures", "a whole number of devices, 0 or more", 0, &dc.MaxFailures)...)
		diags = append(diags, evalWhole(ctx, dc.NoticeSecondsExpr, "notice_seconds", "a whole number of seconds, 0 or more", 0, &dc.NoticeSeconds)...)
		diags = append(diags, evalStrings(ctx, dc.DownloadExpr, "download", &dc.Download)...)
		var seen string
		diags = append(diags, evalString(ctx, dc.Requirements.AgentSeenWithinExpr, "agent_seen_within", &seen)...)
		if seen != "" {
			d, err := time.ParseDuration(seen)
			if err != nil || d <= 0 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid agent_seen_within",
					Detail:   quote(seen) + ` is not a positive duration. Write it like "30m" or "2h".`,
					Subject:  dc.Requirements.AgentSeenWithinExpr.Range().Ptr(),
				})
			} else {
				dc.Requirements.AgentSeenWithin = d
			}
		}
	}
	return diags
}

// evalWhole evaluates a whole-number attribute of at least min into dst
// (left alone when expr is nil or not known yet).
func evalWhole(ctx *hcl.EvalContext, expr hcl.Expression, what, want string, min int, dst *int) hcl.Diagnostics {
	if expr == nil {
		return nil
	}
	val, diags := expr.Value(ctx)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return diags
	}
	val, _ = val.Unmark()
	conv, err := convert.Convert(val, cty.Number)
	n, ok := 0, false
	if err == nil && !conv.IsNull() {
		if bf := conv.AsBigFloat(); bf.IsInt() {
			i64, acc := bf.Int64()
			n, ok = int(i64), acc == big.Exact
		}
	}
	if !ok || n < min {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + what, Detail: what + " must be " + want + ".", Subject: expr.Range().Ptr()})
	}
	*dst = n
	return diags
}

// SensitiveTemplateDiag is the error for a template attribute whose value
// derives from a sensitive variable: adshift never writes secrets into
// directory attributes, plans or state.
func SensitiveTemplateDiag(a *TemplateAttribute) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Sensitive value in a template attribute",
		Detail:   "The value of " + a.Name + " derives from a sensitive variable. adshift never writes secrets into directory attributes, plans or state. Passwords of new users are set by the target's provider (see its new_users settings); remove the sensitive value from this template.",
		Subject:  a.Expr.Range().Ptr(),
	}
}

// SortedNames returns a map's keys in order (handy for deterministic walks).
func SortedNames[T any](m map[string]T) []string { return sortedKeys(m) }

// SensitiveStrings returns the text of every value derived from a
// sensitive variable (variables and locals, list and map elements
// included), so that messages can be scrubbed of them before they are
// shown: a provider that names its settings in an error (a file path, a
// DN) does not know which of them were sensitive. Values shorter than
// three characters are left out, since scrubbing them would garble every
// message.
func (s *Scope) SensitiveStrings() []string {
	seen := map[string]bool{}
	var out []string
	var walk func(v cty.Value, marked bool)
	walk = func(v cty.Value, marked bool) {
		if v.IsMarked() {
			marked = true
			v, _ = v.Unmark()
		}
		if v.IsNull() || !v.IsKnown() {
			return
		}
		ty := v.Type()
		switch {
		case ty.IsPrimitiveType():
			if !marked {
				return
			}
			var text string
			switch ty {
			case cty.String:
				text = v.AsString()
			case cty.Number:
				text = v.AsBigFloat().Text('f', -1)
			default:
				return
			}
			if len(text) >= 3 && !seen[text] {
				seen[text] = true
				out = append(out, text)
			}
		case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				walk(ev, marked)
			}
		}
	}
	for _, m := range []map[string]cty.Value{s.Vars, s.Locals} {
		for _, v := range m {
			walk(v, false)
		}
	}
	// Longest first, so that a value containing another is scrubbed whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// ScrubStrings replaces each of secrets (longest first) in text with
// "(sensitive)".
func ScrubStrings(text string, secrets []string) string {
	for _, sec := range secrets {
		if strings.Contains(text, sec) {
			text = strings.ReplaceAll(text, sec, "(sensitive)")
		}
	}
	return text
}
