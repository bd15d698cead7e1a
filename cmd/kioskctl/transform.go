package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/printroom/voucherkiosk/devices/card"
)

func init() {
	register(&command{
		name:    "transform",
		summary: "try a card transform chain on a card number, step by step",
		usage: `Usage: kioskctl transform CHAIN VALUE

Applies the card transform CHAIN (as in [card_reader] transform) to VALUE,
the number the reader sends, and prints the number after each word: to try
a chain copied from MyQ against a real card before putting it in the config.
Words are MyQ's ID card transformation commands, with MyQ's meanings:
ltrim(n) rtrim(n) prepend(s) append(s) left(n) right(n) mid(x,y) lpad(n,c)
hex2dec() dec2hex() hex2bin() bin2hex() dec2bin() bin2dec() reverse().
mid(x,y) removes x characters from the left and y from the right. upper(),
lower() and rpad(n,c) are the kiosk's own extensions, not MyQ's. Words are
joined with "|" (MyQ's own separator could not be confirmed); "()" after a
word without arguments may be left out. Nothing is sent anywhere.

Example:
  kioskctl transform 'right(8)|hex2dec()|lpad(10,0)' 100086F444

Exit codes: 0 applied, 1 the chain cannot handle VALUE, 2 wrong usage or a chain that does not parse.`,
		run: runTransform,
	})
}

func runTransform(ctx context.Context, e *env, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("%w: want CHAIN VALUE, got %d argument(s)", errUsage, len(args))
	}
	chain, err := card.ParseChain(args[0])
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "input\t%s\n", args[1])
	steps, err := chain.Trace(args[1])
	for _, s := range steps {
		fmt.Fprintf(tw, "%s\t%s\n", s.Word, s.Result)
	}
	tw.Flush()
	var te *card.TransformError
	if errors.As(err, &te) {
		return &exitError{code: 1, err: fmt.Errorf("word %d %s cannot handle %q: it %s", te.Pos, te.Word, te.Value, te.Reason)}
	}
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if ext := chain.Extensions(); len(ext) > 0 {
		fmt.Fprintf(e.stdout, "note: %v are the kiosk's extensions: MyQ has no such words\n", ext)
	}
	if chain.Empty() {
		fmt.Fprintln(e.stdout, "(empty chain: the number is used as the reader sends it)")
	}
	return nil
}
