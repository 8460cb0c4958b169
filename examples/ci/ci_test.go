// Package ci holds the example CI pipelines (GitHub Actions, GitLab CI);
// its test checks that they parse, have the jobs a team needs, and use only
// adshift commands and options the README documents.
package ci

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// readmeCommands reads the README's command table: each command's name
// and the options its row documents, true for those that take a value
// (written "-out FILE", "-parallelism N").
func readmeCommands(t *testing.T) map[string]map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := map[string]map[string]bool{}
	cmdRE := regexp.MustCompile("`adshift ([a-z-]+)")
	flagRE := regexp.MustCompile(`(^|[\s\[|(` + "`" + `])(-[a-z][a-z-]*)( [A-Z]+\b| …)?`)
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `adshift ") {
			continue
		}
		cell := strings.SplitN(line, " | ", 2)[0]
		flags := map[string]bool{}
		for _, m := range flagRE.FindAllStringSubmatch(cell, -1) {
			flags[m[2]] = m[3] != ""
		}
		for _, m := range cmdRE.FindAllStringSubmatch(cell, -1) {
			cmds[m[1]] = flags
		}
	}
	if len(cmds) < 8 {
		t.Fatalf("found %d commands in the README's command table", len(cmds))
	}
	return cmds
}

// globalOptions are documented in the README outside the table.
var globalOptions = map[string]bool{"-chdir": true, "-no-color": true, "-help": true, "-version": true}

// invocation is one adshift command line in a pipeline.
type invocation struct {
	where, command string
	flags          []string
	args           []string
}

var adshiftRE = regexp.MustCompile(`(?m)(?:^|[\s;&|(])adshift((?:[ \t]+[^\s;&|<>]+)+)`)

// valueOptions are the options that take a value, as the README writes
// them; invocations skips their values.
var valueOptions = map[string]bool{}

// invocations finds every adshift command line in a shell script.
func invocations(where, script string) []invocation {
	var out []invocation
	script = strings.ReplaceAll(script, "\\\n", " ")
	for _, m := range adshiftRE.FindAllStringSubmatch(script, -1) {
		inv := invocation{where: where}
		skip := false
		for _, tok := range strings.Fields(m[1]) {
			tok = strings.Trim(tok, `"'`)
			switch {
			case skip:
				skip = false
			case strings.HasPrefix(tok, "-"):
				name, _, _ := strings.Cut(tok, "=")
				if inv.command == "" && name == "-chdir" {
					continue
				}
				inv.flags = append(inv.flags, name)
				skip = valueOptions[name] && !strings.Contains(tok, "=")
			case inv.command == "":
				inv.command = tok
			default:
				inv.args = append(inv.args, tok)
			}
		}
		out = append(out, inv)
	}
	return out
}

// loadValueOptions fills valueOptions from the README.
func loadValueOptions(t *testing.T) {
	t.Helper()
	for _, flags := range readmeCommands(t) {
		for f, v := range flags {
			valueOptions[f] = valueOptions[f] || v
		}
	}
}

// checkDocumented fails for commands and options the README does not have.
func checkDocumented(t *testing.T, invs []invocation) {
	t.Helper()
	doc := readmeCommands(t)
	for _, inv := range invs {
		flags, ok := doc[inv.command]
		if !ok {
			t.Errorf("%s: adshift %s is not in the README's command table", inv.where, inv.command)
			continue
		}
		for _, f := range inv.flags {
			if _, ok := flags[f]; !ok && !globalOptions[f] {
				t.Errorf("%s: adshift %s %s: the README does not document %s for %s", inv.where, inv.command, f, f, inv.command)
			}
		}
	}
}

// commands lists the commands in the order they run, with their arguments.
func commands(invs []invocation) []string {
	var out []string
	for _, inv := range invs {
		out = append(out, strings.Join(append(append([]string{inv.command}, inv.flags...), inv.args...), " "))
	}
	return out
}

func hasCommand(invs []invocation, command string, flags ...string) bool {
	for _, inv := range invs {
		if inv.command != command {
			continue
		}
		ok := true
		for _, f := range flags {
			ok = ok && strings.Contains(" "+strings.Join(inv.flags, " ")+" ", " "+f+" ")
		}
		if ok {
			return true
		}
	}
	return false
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
}

// checkReviewJob: plan and review on a merge request, keeping the plan and
// its HTML review, posting the Markdown.
func checkReviewJob(t *testing.T, name string, invs []invocation, artifacts string) {
	t.Helper()
	for _, want := range []struct {
		command string
		flags   []string
	}{{"validate", nil}, {"plan", []string{"-out"}}, {"show", []string{"-markdown"}}, {"show", []string{"-html"}}} {
		if !hasCommand(invs, want.command, want.flags...) {
			t.Errorf("%s: no adshift %s %v (has %q)", name, want.command, want.flags, commands(invs))
		}
	}
	for _, f := range []string{"adshift.plan", "review.html", "review.md"} {
		if !strings.Contains(artifacts, f) {
			t.Errorf("%s: the artifacts %q do not keep %s", name, artifacts, f)
		}
	}
	if hasCommand(invs, "apply") {
		t.Errorf("%s: a review job must not apply", name)
	}
}

// checkApplyJob: apply exactly the saved plan, never planning again.
func checkApplyJob(t *testing.T, name string, invs []invocation) {
	t.Helper()
	applied := false
	for _, inv := range invs {
		switch inv.command {
		case "plan":
			t.Errorf("%s: plans again; it must apply the reviewed plan", name)
		case "apply":
			applied = true
			if len(inv.args) != 1 || !strings.HasSuffix(inv.args[0], "adshift.plan") {
				t.Errorf("%s: adshift apply %v: want exactly the saved adshift.plan", name, inv.args)
			}
			for _, f := range inv.flags {
				if f == "-auto-approve" {
					t.Errorf("%s: -auto-approve: a saved plan needs no approval, and without one it would plan anew", name)
				}
			}
		}
	}
	if !applied {
		t.Errorf("%s: does not apply", name)
	}
}

func TestGitHubActions(t *testing.T) {
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			If    string `yaml:"if"`
			Env   string `yaml:"environment"`
			Steps []struct {
				Name string            `yaml:"name"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	loadValueOptions(t)
	readYAML(t, filepath.Join("github", "adshift.yml"), &wf)
	if wf.On["pull_request"] == nil || wf.On["push"] == nil {
		t.Fatalf("the workflow runs on %v, want pull_request and push", wf.On)
	}
	if len(wf.Jobs) != 2 {
		t.Fatalf("jobs %v, want plan and apply", wf.Jobs)
	}
	var all []invocation
	for name, job := range wf.Jobs {
		var invs []invocation
		artifacts := ""
		comment := false
		for _, s := range job.Steps {
			invs = append(invs, invocations("github/adshift.yml jobs."+name+" step "+s.Name, s.Run)...)
			if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
				artifacts += s.With["path"]
			}
			comment = comment || strings.Contains(s.Run, "gh pr comment")
		}
		all = append(all, invs...)
		switch name {
		case "plan":
			if !strings.Contains(job.If, "pull_request") {
				t.Errorf("plan runs if %q, want on pull requests", job.If)
			}
			checkReviewJob(t, "github plan", invs, artifacts)
			if !comment {
				t.Errorf("github plan: does not post the review on the pull request")
			}
		case "apply":
			if !strings.Contains(job.If, "push") || !strings.Contains(job.If, "refs/heads/main") || job.Env == "" {
				t.Errorf("apply runs if %q in environment %q, want pushes to main in a protected environment", job.If, job.Env)
			}
			checkApplyJob(t, "github apply", invs)
		default:
			t.Errorf("unexpected job %s", name)
		}
	}
	checkDocumented(t, all)
}

func TestGitLabCI(t *testing.T) {
	loadValueOptions(t)
	var doc map[string]any
	readYAML(t, filepath.Join("gitlab", ".gitlab-ci.yml"), &doc)
	type job struct {
		Stage     string              `yaml:"stage"`
		Rules     []map[string]string `yaml:"rules"`
		Script    []string            `yaml:"script"`
		Artifacts struct {
			Paths    []string `yaml:"paths"`
			ExposeAs string   `yaml:"expose_as"`
		} `yaml:"artifacts"`
	}
	jobs := map[string]job{}
	for name, v := range doc {
		m, ok := v.(map[string]any)
		if !ok || m["script"] == nil {
			continue
		}
		b, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var j job
		if err := yaml.Unmarshal(b, &j); err != nil {
			t.Fatalf("job %s: %v", name, err)
		}
		jobs[name] = j
	}
	var all []invocation
	for _, name := range []string{"validate", "plan", "apply"} {
		j, ok := jobs[name]
		if !ok {
			t.Fatalf("no job %s (jobs: %v)", name, jobs)
		}
		var invs []invocation
		for _, line := range j.Script {
			invs = append(invs, invocations("gitlab/.gitlab-ci.yml "+name, line)...)
		}
		all = append(all, invs...)
		rule := ""
		for _, r := range j.Rules {
			rule += r["if"]
		}
		switch name {
		case "validate", "plan":
			if !strings.Contains(rule, `$CI_PIPELINE_SOURCE == "merge_request_event"`) {
				t.Errorf("%s runs if %q, want merge request pipelines", name, rule)
			}
		case "apply":
			if !strings.Contains(rule, "$CI_DEFAULT_BRANCH") || !strings.Contains(rule, `$CI_COMMIT_REF_PROTECTED == "true"`) {
				t.Errorf("apply runs if %q, want the protected default branch", rule)
			}
			checkApplyJob(t, "gitlab apply", invs)
		}
		if name == "plan" {
			invs = append(invs, invocations("", strings.Join(jobs["validate"].Script, "\n"))...)
			checkReviewJob(t, "gitlab plan", invs, strings.Join(j.Artifacts.Paths, " "))
			if !strings.Contains(strings.Join(j.Script, "\n"), "/merge_requests/$CI_MERGE_REQUEST_IID/notes") {
				t.Errorf("gitlab plan: does not post the review on the merge request")
			}
		}
	}
	checkDocumented(t, all)
}

// TestInvocations checks the command-line reader the tests above rely on.
func TestInvocations(t *testing.T) {
	loadValueOptions(t)
	invs := invocations("x", "set +e\nadshift -chdir=\"$D\" plan -no-color -lock-timeout 5m -out adshift.plan | tee plan.txt\nx=$(adshift show -html p > r.html)\ngh run download --name adshift-plan adshift.plan")
	got := commands(invs)
	want := []string{"plan -no-color -lock-timeout -out", "show -html p"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %q, want %q", got, want)
	}
}
