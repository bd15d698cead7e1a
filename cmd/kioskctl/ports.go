package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

func init() { addCommand(newPortsCmd) }

func newPortsCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "ports",
		Short: "list serial ports with their USB ids and stable /dev/serial/by-id names",
		Long: `Lists every serial port with its USB VID:PID, serial number, product, and
the /dev/serial/by-id link to put in a config (it survives replugging into
another USB socket, /dev/ttyUSB0 does not).`,
		Example: `  kioskctl ports
  # PORT          USB ID     SERIAL    PRODUCT          BY-ID
  # /dev/ttyUSB0  0403:6001  A50285BI  FT232R USB UART  /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0
  # then in the config: port = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPorts(cmd.Context(), e) },
	}
	return withExitCodes(c, "0 listed (also when there are none), 1 the ports could not be listed, 2 wrong usage.")
}

func runPorts(_ context.Context, e *env) error {
	list, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return fmt.Errorf("list serial ports: %w", err)
	}
	printPorts(e, list, byIDLinks("/dev/serial/by-id"))
	return nil
}

// completePorts offers the stable by-id names first, then every port, for
// shell completion of --port.
func completePorts(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	links := byIDLinks("/dev/serial/by-id")
	for _, l := range links {
		out = append(out, l)
	}
	sort.Strings(out)
	if list, err := serial.GetPortsList(); err == nil {
		sort.Strings(list)
		out = append(out, list...)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// byIDLinks maps a device path (/dev/ttyUSB0) to its by-id link.
func byIDLinks(dir string) map[string]string {
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return out // no USB serial devices: the directory does not exist
	}
	for _, ent := range ents {
		link := filepath.Join(dir, ent.Name())
		target, err := filepath.EvalSymlinks(link)
		if err != nil {
			continue
		}
		out[target] = link
	}
	return out
}

func printPorts(e *env, list []*enumerator.PortDetails, links map[string]string) {
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no serial ports")
		return
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tUSB ID\tSERIAL\tPRODUCT\tBY-ID")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, p := range list {
		id := "-"
		if p.IsUSB {
			id = p.VID + ":" + p.PID
		}
		link := links[p.Name]
		if link == "" {
			if real, err := filepath.EvalSymlinks(p.Name); err == nil {
				link = links[real]
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, id, dash(p.SerialNumber), dash(p.Product), dash(link))
	}
	tw.Flush()
}
