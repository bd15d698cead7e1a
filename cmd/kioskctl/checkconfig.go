package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/cmd/internal/clidoc"
	"github.com/printroom/voucherkiosk/kiosk/config"
)

func init() { addCommand(newCheckConfigCmd) }

func newCheckConfigCmd(e *env) *cobra.Command {
	var path string
	c := &cobra.Command{
		Use:   "check-config [FILE]",
		Short: "check the config file, its secrets, files, ports and state directory",
		Long: `Reads the kiosk configuration FILE (default ` + config.DefaultPath + `) strictly
(an unknown key is a problem), checks every value, then checks the machine
around it: the MyQ client secret is readable and private, the CA file holds
certificates, the serial ports exist and may be opened, the state directory is
writable. Prints each check with "ok" or "problem"; every problem names the
file, line and key and says how to fix it. kioskd --check-config runs the same
checks.

Run it as the user the service runs as to see what the service will see:
  sudo -u kiosk kioskctl check-config`,
		Example: `  kioskctl check-config /etc/kioskd/kioskd.toml`,
		Args:    cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"toml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("config") && args[0] != path {
					return fmt.Errorf("%w: give the config either as FILE or with --config, not both", errUsage)
				}
				path = args[0]
			}
			return runCheckConfig(cmd.Context(), e, path)
		},
	}
	configFlag(c, &path)
	return withExitCodes(c, "0 every check passed, 1 a problem was found, 2 wrong usage.")
}

// configFlag adds --config FILE, which every command reading the kiosk
// config shares.
func configFlag(c *cobra.Command, path *string) {
	c.Flags().StringVar(path, "config", config.DefaultPath, "the kiosk config `FILE`")
	_ = c.MarkFlagFilename("config", "toml")
}

func runCheckConfig(_ context.Context, e *env, path string) error {
	checked, problems := config.CheckFile(path, config.CheckOptions{})
	clidoc.PrintChecks(e.stdout, checked, problems)
	if len(problems) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d problem(s) in %s; fix them and run check-config again", len(problems), path)}
	}
	fmt.Fprintf(e.stdout, "%s is good (%d checks)\n", path, len(checked))
	return nil
}
