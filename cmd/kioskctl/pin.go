package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/ui"
)

func init() { addCommand(newSetPINCmd) }

func newSetPINCmd(e *env) *cobra.Command {
	var cfgPath, file string
	c := &cobra.Command{
		Use:   "set-pin [--config FILE] [--file PATH]",
		Short: "set the PIN that opens the technician menu (F10) on the kiosk screen",
		Long: `Asks for a new technician PIN (6 to 12 digits) twice and stores its salted
hash in the file the config names as [kiosk] technician_pin_file (or --file).
The PIN itself is never stored. With no terminal, the PIN is read from the
first line of standard input. Under systemd the file reaches kioskd as the
credential technician-pin (LoadCredential=), copied when the service starts:
restart it (systemctl restart kioskd) to use the new PIN. Run by hand, kioskd
reads the file when the menu is opened.`,
		Example: `  sudo kioskctl set-pin
  echo 482913 | sudo kioskctl set-pin --file /etc/kioskd/technician-pin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSetPIN(cmd.Context(), e, cfgPath, file) },
	}
	configFlag(c, &cfgPath)
	c.Flags().StringVar(&file, "file", "", "write this `PATH` instead of the config's technician_pin_file")
	return withExitCodes(c, "0 stored, 1 not stored (PINs differ, unusable PIN, file error), 2 wrong usage.")
}

func runSetPIN(ctx context.Context, e *env, cfgPath, file string) error {
	path := file
	if path == "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		if path = cfg.Kiosk.TechnicianPINFile; path == "" {
			return &exitError{code: 2, err: fmt.Errorf("%s has no [kiosk] technician_pin_file: add one, or give --file", cfgPath)}
		}
	}
	pin, err := readNewPIN(e)
	if err != nil {
		return err
	}
	if err := ui.ValidPIN(pin); err != nil {
		return err
	}
	if err := ui.WritePINFile(path, pin); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "technician PIN stored in %s\n", path)
	fmt.Fprintln(e.stdout, "under systemd kioskd takes it at its next start: systemctl restart kioskd")
	return nil
}

// readNewPIN asks twice without echo on a terminal, or reads one line.
func readNewPIN(e *env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "new technician PIN: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "the same PIN again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two PINs differ; nothing stored")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no PIN on standard input")
	}
	return strings.TrimSpace(line), nil
}
