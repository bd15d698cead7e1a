// Package clidoc owns the conventions both binaries share on the command
// line: how a config check is printed, the man pages and the bash completion script generated from their
// cobra commands (so they cannot drift from --help), and the exit-code
// annotation help and man pages print. See docs/ARCHITECTURE.md.
package clidoc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/printroom/voucherkiosk/kiosk/config"
)

// ExitCodes is the annotation key holding what each exit code means.
const ExitCodes = "exit-codes"

// WithExitCodes records what each exit code of c means.
func WithExitCodes(c *cobra.Command, codes string) *cobra.Command {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[ExitCodes] = codes
	return c
}

// Usage prints c's usage the way both binaries do: cobra's layout, a group
// shows its commands instead of a usage line, and the exit codes at the
// end. It is a function and not a cobra template on purpose: text/template
// makes reflect's MethodByName reachable, which turns off the linker's dead
// code elimination and added about 3 MB to each binary.
func Usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	group := c.HasAvailableSubCommands()
	fmt.Fprint(w, "Usage:")
	if c.Runnable() && !group {
		fmt.Fprintf(w, "\n  %s", c.UseLine())
	}
	if group {
		fmt.Fprintf(w, "\n  %s COMMAND", c.CommandPath())
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\n\nExample:\n%s", c.Example)
	}
	if group {
		fmt.Fprint(w, "\n\nCommands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(w, "\n  %-*s %s", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\n\nFlags:\n%s", strings.TrimRightFunc(c.LocalFlags().FlagUsages(), unicode.IsSpace))
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\n\nGlobal Flags:\n%s", strings.TrimRightFunc(c.InheritedFlags().FlagUsages(), unicode.IsSpace))
	}
	if group {
		fmt.Fprintf(w, "\n\nRun '%s COMMAND --help' for more about a command.", c.CommandPath())
	}
	if codes := c.Annotations[ExitCodes]; codes != "" {
		fmt.Fprintf(w, "\n\nExit codes: %s", codes)
	}
	fmt.Fprintln(w)
	return nil
}

// Generate writes root's man pages, section 8, into dir/man8 (root.8 and
// root-sub.8 for every visible subcommand), and with completion its bash
// completion script as dir/bash-completion/<root>. version goes into the
// man page footer; the date is $SOURCE_DATE_EPOCH's when set, so a package
// build is reproducible.
func Generate(root *cobra.Command, dir, version string, completion bool) error {
	man := filepath.Join(dir, "man8")
	if err := os.MkdirAll(man, 0o755); err != nil {
		return fmt.Errorf("generate docs: %w", err)
	}
	root.DisableAutoGenTag = true
	withExitStatus(root)
	header := &doc.GenManHeader{Section: "8", Source: "voucherkiosk " + version, Manual: "Voucher Kiosk"}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscan(s, &sec); err != nil {
			return fmt.Errorf("generate docs: SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		t := time.Unix(sec, 0).UTC()
		header.Date = &t
	}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("generate man pages: %w", err)
	}
	if !completion {
		return nil
	}
	var b bytes.Buffer
	if err := root.GenBashCompletionV2(&b, true); err != nil {
		return fmt.Errorf("generate bash completion: %w", err)
	}
	bc := filepath.Join(dir, "bash-completion")
	if err := os.MkdirAll(bc, 0o755); err != nil {
		return fmt.Errorf("generate docs: %w", err)
	}
	if err := os.WriteFile(filepath.Join(bc, root.Name()), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("generate bash completion: %w", err)
	}
	return nil
}

// withExitStatus appends each command's exit codes to its description:
// cobra's man pages print Long but not annotations.
func withExitStatus(c *cobra.Command) {
	// A page for a command with subcommands lists them, as --help does;
	// cobra's man page would only name their pages under SEE ALSO.
	if c.HasAvailableSubCommands() && !strings.Contains(c.Long, "\nCommands:\n") {
		var b strings.Builder
		b.WriteString("\n\nCommands:\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(&b, "\n**%s**: %s (%s-%s(8))\n", sub.Name(), sub.Short, c.CommandPath(), sub.Name())
			}
		}
		c.Long += b.String()
	}
	if codes := c.Annotations[ExitCodes]; codes != "" && !strings.Contains(c.Long, "Exit codes:") {
		long := c.Long
		if long == "" {
			long = c.Short
		}
		c.Long = long + "\n\nExit codes: " + codes
	}
	for _, sub := range c.Commands() {
		withExitStatus(sub)
	}
}

// GenerateCommand is the hidden "gen-docs DIR" subcommand packaging/build.sh
// runs to write the man pages and completion into the package.
func GenerateCommand(root *cobra.Command, version string, completion bool) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "write the man pages (and completion) into DIR, for packaging",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return Generate(root, args[0], version, completion)
		},
	}
}

// PrintChecks prints what a config check found, one line each, the same in
// kioskd --check-config and kioskctl check-config: "ok", "warning" (a check
// config.Check reports with the prefix "warning: ") or "problem".
func PrintChecks(w io.Writer, checked []string, problems config.Problems) {
	for _, c := range checked {
		if rest, isWarning := strings.CutPrefix(c, "warning: "); isWarning {
			fmt.Fprintf(w, "warning  %s\n", rest)
			continue
		}
		fmt.Fprintf(w, "ok       %s\n", c)
	}
	for _, p := range problems {
		fmt.Fprintf(w, "problem  %s\n", p.Error())
	}
}
