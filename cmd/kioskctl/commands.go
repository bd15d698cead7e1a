package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/cmd/internal/clidoc"
)

// Adding a subcommand: write NAME.go with
//
//	func init() { addCommand(newNameCmd) }
//
//	func newNameCmd(e *env) *cobra.Command {
//		var o nameOptions
//		c := &cobra.Command{
//			Use: "name [flags] [FILE]", Short: "...", Long: "...", Example: "...",
//			Args: cobra.MaximumNArgs(1),
//			RunE: func(cmd *cobra.Command, args []string) error { return runName(cmd.Context(), e, o) },
//		}
//		c.Flags().StringVar(&o.Config, "config", config.DefaultPath, "the kiosk config")
//		return withExitCodes(c, "0 done, 1 failed, 2 wrong usage")
//	}
//
// --help, the man page kioskctl-name(8) and shell completion follow from it.
// A usage error is one wrapping errUsage (exit 2); an *exitError picks its
// own code; any other error exits 1.

// builders make every subcommand afresh for each run, so no flag value
// survives from one run (or test) to the next.
var builders []func(e *env) *cobra.Command

func addCommand(b func(e *env) *cobra.Command) { builders = append(builders, b) }

// command is the older way to write a subcommand: it parses its own
// arguments. register still accepts it (its flags are not parsed by cobra;
// --help prints usage) so that work written against it keeps building. A name
// with a space ("journal ack-damage") adds a subcommand to a group.
type command struct {
	name    string
	summary string // one line for the overview
	// usage is the full help: synopsis, flags, an example, exit codes.
	usage string
	run   func(ctx context.Context, env *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("kioskctl: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// withExitCodes records what each exit code means; help and the man page
// print it.
func withExitCodes(c *cobra.Command, codes string) *cobra.Command {
	return clidoc.WithExitCodes(c, codes)
}

// newRoot builds the command tree for one run. started reports whether a
// subcommand's own code ran: an error before that is cobra refusing the
// command line, a usage error.
func newRoot(e *env) (*cobra.Command, *bool) {
	root := &cobra.Command{
		Use:   "kioskctl",
		Short: "the Voucher Kiosk technician's tool",
		Long: `kioskctl is the Voucher Kiosk technician's tool: it checks a config and the
MyQ connection, lists and probes serial ports, simulates devices, serves a
fake MyQ for rehearsals, and asks a running kioskd about its queue and cash box.`,
		Version:           version,
		Args:              cobra.NoArgs,
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			_ = cmd.Help()
			return fmt.Errorf("%w: missing command", errUsage)
		},
	}
	withExitCodes(root, "0 success, 1 the check or operation failed, 2 wrong usage.")
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	root.SetUsageFunc(clidoc.Usage)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %v", errUsage, err) })
	for _, b := range builders {
		root.AddCommand(b(e))
	}
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		parent, leaf := root, n
		if group, rest, ok := strings.Cut(n, " "); ok {
			parent, leaf = findOrAddGroup(root, group), rest
		}
		if slices.ContainsFunc(parent.Commands(), func(c *cobra.Command) bool { return c.Name() == leaf }) {
			panic("kioskctl: command registered twice: " + n)
		}
		parent.AddCommand(legacyCommand(commands[n], leaf, e))
	}
	root.AddCommand(clidoc.GenerateCommand(root, version, true))
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultCompletionCmd()
	started := new(bool)
	markStarted(root, started)
	return root, started
}

// markStarted wraps every command's RunE to note that it ran.
func markStarted(c *cobra.Command, started *bool) {
	if f := c.RunE; f != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*started = true
			return f(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markStarted(sub, started)
	}
}

// newGroup is a command that only holds subcommands (receipt, journal).
func newGroup(name, short string) *cobra.Command {
	return &cobra.Command{
		Use:   name + " COMMAND",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			names := []string{}
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return fmt.Errorf("%w: want a subcommand: %s", errUsage, strings.Join(names, ", "))
		},
	}
}

func findOrAddGroup(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	g := newGroup(name, name+" commands")
	root.AddCommand(g)
	return g
}

// legacyCommand adapts a command written against register: cobra passes
// its arguments through untouched, and --help or -h prints its usage.
func legacyCommand(c *command, use string, e *env) *cobra.Command {
	cc := &cobra.Command{
		Use:                use,
		Short:              c.summary,
		Long:               c.usage,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "--" {
					break
				}
				if a == "-h" || a == "--help" {
					fmt.Fprintln(cmd.OutOrStdout(), c.usage)
					return nil
				}
			}
			return c.run(cmd.Context(), e, args)
		},
	}
	cc.SetHelpFunc(func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), c.usage) })
	return cc
}

// newHelpCmd is "kioskctl help COMMAND": cobra's own answers an unknown
// topic with the overview and exit 0; this one is a usage error.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "help about any command",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return fmt.Errorf("%w: no command %q", errUsage, strings.Join(args, " "))
			}
			return target.Help()
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			parent, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range parent.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
}
