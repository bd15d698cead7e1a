package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/card"
	"github.com/printroom/voucherkiosk/kiosk/config"
)

// version is stamped at build time (-X main.version=...).
var version = "dev"

func init() { addCommand(newAPICheckCmd) }

func newAPICheckCmd(e *env) *cobra.Command {
	var o apiCheckOptions
	c := &cobra.Command{
		Use:   "api-check [--config FILE] [--card NUMBER] [--raw]",
		Short: "check the MyQ connection: token and scopes, a card lookup, the external provider",
		Long: `Checks, with the kiosk's own config and secret, the three things that are most
often wrong when a kiosk is set up, and says how to fix each in MyQ's web UI:

  1. the REST API application: a token is issued and it grants the scopes
     "credit" and "users";
  2. user lookup: the test card (--card) finds a user; with --raw the number is
     what the reader sends and goes through the config's transform chain first;
  3. the recharge provider "external" is listed (External Payment Providers is
     enabled in Settings > Credit);
  4. with [voucher] enabled: the voucher form MyQ offers (v3 provider or v2),
     and, with --card, that MyQ refuses a made-up voucher code for that user.

It creates no payment and moves no money.`,
		Example: `  sudo kioskctl api-check --card 0008844356
  sudo kioskctl api-check --raw --card 1000866F44`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAPICheck(cmd.Context(), e, o) },
	}
	configFlag(c, &o.config)
	c.Flags().StringVar(&o.card, "card", "", "a card `NUMBER` known to MyQ, to test the lookup")
	c.Flags().BoolVar(&o.raw, "raw", false, "NUMBER is the reader's raw output: apply the transform chain")
	return withExitCodes(c, "0 every check passed, 1 a check failed, 2 wrong usage or config.")
}

type apiCheckOptions struct {
	config, card string
	raw          bool
}

func runAPICheck(ctx context.Context, e *env, o apiCheckOptions) error {
	cfg, err := config.Load(o.config)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	client, err := api.New(api.Config{
		URL: cfg.MyQ.URL, ClientID: cfg.MyQ.ClientID, ClientSecret: cfg.MyQ.ClientSecret.Reveal(),
		CAFile: cfg.MyQ.CAFile, Provider: cfg.MyQ.Provider, Timeout: cfg.MyQ.RequestTimeout, Version: version,
	})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer client.CloseIdleConnections()
	failed := 0
	ok := func(format string, a ...any) { fmt.Fprintf(e.stdout, "ok       "+format+"\n", a...) }
	bad := func(fix string, format string, a ...any) {
		failed++
		fmt.Fprintf(e.stdout, "problem  "+format+"\n", a...)
		fmt.Fprintf(e.stdout, "         fix: %s\n", fix)
	}
	fmt.Fprintf(e.stdout, "MyQ at %s, client %q, provider %q\n", cfg.MyQ.URL, cfg.MyQ.ClientID, cfg.MyQ.Provider)

	tctx, cancel := context.WithTimeout(ctx, cfg.MyQ.RequestTimeout+5*time.Second)
	tok, err := client.Token(tctx)
	cancel()
	switch {
	case err != nil && api.IsTransient(err):
		bad("check the url and port (MyQ's web port is 8090), the network, and that ca_file holds the MyQ CA "+
			"(export it from the MyQ server: Settings > Network > HTTPS certificate)", "no answer from MyQ: %v", err)
		return &exitError{code: 1, err: errors.New("MyQ unreachable")}
	case err != nil:
		bad("in MyQ's web UI: Settings > Connections (External Systems before 10.1) > REST API applications: "+
			"check the client id, and write the application's secret to client_secret_file", "token refused: %v", err)
		return &exitError{code: 1, err: errors.New("token refused")}
	}
	missing := []string{}
	for _, s := range []string{"credit", "users"} {
		if !slices.Contains(tok.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		bad("edit the REST API application in MyQ and tick the scopes credit and users",
			"token granted scopes %q, missing %v", tok.Scope, missing)
	} else {
		ok("token issued with scopes %q (valid until %s)", tok.Scope, tok.ExpiresAt.Format("15:04:05"))
	}

	if o.card != "" {
		number := o.card
		if o.raw {
			chain, err := card.ParseChain(cfg.CardReader.Transform)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if number, err = chain.Apply(number); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("card transform: %w", err)}
			}
		}
		lctx, cancel := context.WithTimeout(ctx, cfg.MyQ.RequestTimeout+5*time.Second)
		u, err := client.FindUserByCard(lctx, number)
		cancel()
		switch {
		case errors.Is(err, api.ErrUserNotFound):
			bad("check the card is registered to a user in MyQ (Users > the user > Cards) and that transform "+
				"turns what the reader sends into the form MyQ stores (hex or decimal, leading zeros)",
				"card %s: no MyQ user has it", devices.MaskCard(number))
		case errors.Is(err, api.ErrUserInactive):
			bad("the card belongs to a MyQ user whose account is not active: activate it in MyQ (Users), or register the card to an active user",
				"card %s: its MyQ account is not active", devices.MaskCard(number))
		case api.IsForbidden(err):
			bad("give the REST API application's acting user the right Manage users", "card lookup refused: %v", err)
		case err != nil:
			bad("see the error; check the MyQ server log", "card lookup failed: %v", err)
		case u.Balance != nil:
			ok("card %s belongs to %s (user id %d), balance %s sent with the lookup", devices.MaskCard(number), u.FullName, u.ID, *u.Balance)
		default:
			ok("card %s belongs to %s (user id %d); MyQ sent no balance with the lookup", devices.MaskCard(number), u.FullName, u.ID)
		}
	} else {
		fmt.Fprintln(e.stdout, "skip     card lookup (give --card NUMBER to test one)")
	}

	pctx, cancel := context.WithTimeout(ctx, cfg.MyQ.RequestTimeout+5*time.Second)
	provs, err := client.Providers(pctx)
	cancel()
	if err != nil {
		fix := "see the error"
		if api.IsForbidden(err) {
			fix = "give the acting user the right Manage payments, and the application the scope credit"
		}
		bad(fix, "listing recharge providers failed: %v", err)
	} else {
		var found *api.Provider
		for i := range provs {
			if provs[i].Reference == cfg.MyQ.Provider {
				found = &provs[i]
			}
		}
		switch {
		case found == nil:
			bad("in MyQ's web UI: Settings > Credit: enable External Payment Providers",
				"provider %q is not among the active providers", cfg.MyQ.Provider)
		case found.Enabled != nil && !*found.Enabled:
			bad("in MyQ's web UI: Settings > Credit: enable External Payment Providers",
				"provider %q is listed but disabled", cfg.MyQ.Provider)
		default:
			ok("provider %q (%s) is active", found.Reference, found.Name)
		}
		// Vouchers (api = "auto"): which form this MyQ offers.
		switch form, vp := api.ChooseVoucherAPI(provs, api.DefaultVoucherProvider); {
		case form == api.VoucherV3:
			if param, known := api.VoucherCodeParam(*vp); known {
				ok("vouchers: v3 provider %q takes the code as parameter %q", vp.Reference, param)
			} else {
				fmt.Fprintf(e.stdout, "note  vouchers: v3 provider %q lists parameters %q; set the code parameter by hand\n", vp.Reference, vp.Params)
			}
		default:
			fmt.Fprintln(e.stdout, "note  vouchers: no v3 voucher provider listed; vouchers would use v2 /v2/payments/voucher")
		}
	}
	checkVoucherPath(ctx, cfg, client, o.card, o.raw, ok, func(format string, a ...any) {
		fmt.Fprintf(e.stdout, "skip     "+format+"\n", a...)
	}, bad)
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d check(s) failed", failed)}
	}
	fmt.Fprintln(e.stdout, "all checks passed")
	return nil
}
