package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/neomem/neomem/client"
)

// The examples run against a real neomem server: NEOMEM_URL and
// NEOMEM_API_KEY say where it is and which key to use (TestMain sets them
// for a server of its own, with a fresh tenant).

func ExampleNew() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"),
		client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		client.WithUserAgent("my-app/1.0"))

	page, err := c.List(context.Background(), client.ListMemoriesParams{UserID: "new-user"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Results), "memories")
	// Output: 0 memories
}

func ExampleClient_Add() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()

	res, err := c.Add(ctx, client.AddRequest{
		UserID: "alice",
		Messages: []client.Turn{
			{Role: client.User, Content: "I'm vegetarian and allergic to nuts."},
			{Role: client.Assistant, Content: "Noted: no meat, no nuts."},
		},
		Metadata: map[string]any{"source": "onboarding"},
		// Store the turns as they are; leave Infer nil to have the
		// server's model extract facts from them.
		Infer: client.Bool(false),
	},
		// A key per logical write makes it safe to retry.
		client.IdempotencyKey("onboarding-alice"))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Results {
		fmt.Println(r.Event, r.Memory)
	}
	// Output:
	// ADD I'm vegetarian and allergic to nuts.
	// ADD Noted: no meat, no nuts.
}

func ExampleClient_AddAsync() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	accepted, err := c.AddAsync(ctx, client.AddRequest{
		UserID:   "carol",
		Messages: []client.Turn{{Role: client.User, Content: "I moved to Porto."}},
		Infer:    client.Bool(false),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(accepted.Status)

	ev, err := c.WaitEvent(ctx, accepted.EventID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Status)
	for _, r := range ev.Results {
		fmt.Println(r.Event, r.Memory)
	}
	// Output:
	// PENDING
	// SUCCEEDED
	// ADD I moved to Porto.
}

func ExampleClient_Search() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()
	if _, err := c.Add(ctx, client.AddRequest{
		UserID: "dave",
		Messages: []client.Turn{
			{Role: client.User, Content: "I love green tea."},
			{Role: client.User, Content: "My cat is called Miso."},
			{Role: client.User, Content: "I work night shifts as a nurse."},
		},
		Infer: client.Bool(false),
	}); err != nil {
		log.Fatal(err)
	}

	res, err := c.Search(ctx, client.SearchRequest{UserID: "dave", Query: "what does dave drink? tea", TopK: 1})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range res.Results {
		fmt.Println(m.Memory)
	}
	// Output: I love green tea.
}

func ExampleClient_List() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()
	for _, text := range []string{"one", "two", "three", "four", "five"} {
		if _, err := c.Add(ctx, client.AddRequest{UserID: "erin", Infer: client.Bool(false),
			Messages: []client.Turn{{Role: client.User, Content: text}}}); err != nil {
			log.Fatal(err)
		}
	}

	// Page by page, oldest first: the next page starts at NextCursor.
	p := client.ListMemoriesParams{UserID: "erin", Limit: 2}
	for {
		page, err := c.List(ctx, p)
		if err != nil {
			log.Fatal(err)
		}
		var texts []string
		for _, m := range page.Results {
			texts = append(texts, m.Memory)
		}
		fmt.Println(texts)
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	// Output:
	// [one two]
	// [three four]
	// [five]
}

func ExampleClient_ListAll() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()
	for _, text := range []string{"I play the cello.", "I have two sisters.", "I was born in Graz."} {
		if _, err := c.Add(ctx, client.AddRequest{UserID: "frank", Infer: client.Bool(false),
			Messages: []client.Turn{{Role: client.User, Content: text}}}); err != nil {
			log.Fatal(err)
		}
	}

	// Every page, fetched as the loop goes.
	for m, err := range c.ListAll(ctx, client.ListMemoriesParams{UserID: "frank", Limit: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Memory)
	}
	// Output:
	// I play the cello.
	// I have two sisters.
	// I was born in Graz.
}

func ExampleClient_Update() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()
	res, err := c.Add(ctx, client.AddRequest{UserID: "gina", Infer: client.Bool(false),
		Messages: []client.Turn{{Role: client.User, Content: "I live in Berlin."}}})
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.Get(ctx, res.Results[0].ID)
	if err != nil {
		log.Fatal(err)
	}

	// Change it only if nobody did since we read it.
	updated, err := c.Update(ctx, m.ID, client.UpdateRequest{Text: "I live in Lisbon."}, client.IfMatch(m.Version))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.Memory, "version", updated.Version)

	// A second change based on the same read is refused.
	_, err = c.Update(ctx, m.ID, client.UpdateRequest{Text: "I live in Rome."}, client.IfMatch(m.Version))
	fmt.Println(errors.Is(err, client.ErrPrecondition))
	// Output:
	// I live in Lisbon. version 2
	// true
}

func ExampleClient_History() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()
	res, err := c.Add(ctx, client.AddRequest{UserID: "hugo", Infer: client.Bool(false),
		Messages: []client.Turn{{Role: client.User, Content: "I drive a red car."}}})
	if err != nil {
		log.Fatal(err)
	}
	id := res.Results[0].ID
	if _, err := c.Update(ctx, id, client.UpdateRequest{Text: "I drive a blue car."}); err != nil {
		log.Fatal(err)
	}
	if err := c.Delete(ctx, id); err != nil {
		log.Fatal(err)
	}

	history, err := c.History(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range history {
		fmt.Printf("%s %q -> %q\n", h.Event, h.OldMemory, h.NewMemory)
	}
	// Output:
	// ADD "" -> "I drive a red car."
	// UPDATE "I drive a red car." -> "I drive a blue car."
	// DELETE "I drive a blue car." -> ""
}

func ExampleClient_DeleteAll() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()
	if _, err := c.Add(ctx, client.AddRequest{UserID: "ivy", Infer: client.Bool(false), Messages: []client.Turn{
		{Role: client.User, Content: "I like jazz."},
		{Role: client.User, Content: "I hate mornings."},
	}}); err != nil {
		log.Fatal(err)
	}

	// Everything of the scope, history included (erasure).
	n, err := c.DeleteAll(ctx, client.DeleteAllMemoriesParams{UserID: "ivy", Purge: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", n)
	// Output: deleted 2
}

func ExampleClient_Relations() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()

	// Structured facts, written without a model call.
	if _, err := c.AddRelations(ctx, client.AddRelationsRequest{UserID: "jack", Relations: []client.Triple{
		{Source: "Acme", SourceType: "organization", Relationship: "located_in", Target: "Berlin", TargetType: "city"},
		{Source: "Acme", Relationship: "makes", Target: "Rockets"},
	}}); err != nil {
		log.Fatal(err)
	}

	ents, err := c.Entities(ctx, client.ListEntitiesParams{UserID: "jack"})
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	fmt.Println(names)

	rels, err := c.Relations(ctx, client.ListRelationsParams{UserID: "jack"})
	if err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, r := range rels {
		lines = append(lines, r.Source+" "+r.Relationship+" "+r.Target)
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// [Acme Berlin Rockets]
	// Acme LOCATED_IN Berlin
	// Acme MAKES Rockets
}

func ExampleError() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()

	_, err := c.Get(ctx, "01a2475f-8b0a-7705-ac21-f42cb8ca9999")
	fmt.Println(errors.Is(err, client.ErrNotFound))

	_, err = c.Add(ctx, client.AddRequest{UserID: "kim", Messages: []client.Turn{{Role: "robot", Content: "beep"}}})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, errors.Is(err, client.ErrInvalid))
		for _, f := range e.Errors {
			fmt.Println(f.Path)
		}
	}
	// Output:
	// true
	// 400 true
	// messages[0].role
}

func ExampleIdempotencyKey() {
	c := client.New(os.Getenv("NEOMEM_URL"), os.Getenv("NEOMEM_API_KEY"))
	ctx := context.Background()
	req := client.AddRequest{UserID: "liam", Infer: client.Bool(false),
		Messages: []client.Turn{{Role: client.User, Content: "I speak Danish."}}}

	// A retry with the same key (after a timeout, say) writes nothing and
	// answers as the first call did.
	first, err := c.Add(ctx, req, client.IdempotencyKey("liam-danish"))
	if err != nil {
		log.Fatal(err)
	}
	retry, err := c.Add(ctx, req, client.IdempotencyKey("liam-danish"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Results[0].ID == retry.Results[0].ID)

	page, err := c.List(ctx, client.ListMemoriesParams{UserID: "liam"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Results), "memory")
	// Output:
	// true
	// 1 memory
}
