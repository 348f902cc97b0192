package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/neomem/neomem/cypher"
)

// runKeys is the `neomem keys` subcommand: create, list and revoke API keys,
// each bound to one tenant. The secret is printed once, at creation, alone
// on stdout (KEY=$(neomem keys create …) keeps it; the rest goes to
// stderr); Neo4j keeps only its hash.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	usage := errors.New("usage: neomem keys create -tenant T [-name N] [-admin] | list -tenant T | revoke -tenant T -id ID")
	if len(args) == 0 {
		return usage
	}
	fs := flag.NewFlagSet("neomem keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant the key is bound to")
	name := fs.String("name", "", "a label for the key")
	admin := fs.Bool("admin", false, "an admin key (may reset its tenant and manage keys)")
	id := fs.String("id", "", "key id (revoke)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	driver, err := newDriver(cfg)
	if err != nil {
		return err
	}
	defer driver.Close(context.Background())
	// Keys need no vector index; the dimension only satisfies the store.
	store, err := cypher.New(driver, cypher.Config{Database: cfg.Neo4jDatabase, Dimensions: 1})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch args[0] {
	case "create":
		secret, k, err := store.CreateAPIKey(ctx, *tenant, *name, *admin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created key %s for tenant %s (admin: %v); store it now, it is not shown again\n", k.ID, k.Tenant, k.Admin)
		fmt.Fprintln(stdout, secret)
	case "list":
		keys, err := store.APIKeys(ctx, *tenant)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tADMIN\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := ""
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\n", k.ID, k.Name, k.Admin, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return w.Flush()
	case "revoke":
		if err := store.RevokeAPIKey(ctx, *tenant, *id); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "revoked key %s\n", *id)
	default:
		return usage
	}
	return nil
}
