// Package prompts holds what neomem says to models and how it reads their
// answers: the prompts of the add pipeline as embedded text/template files
// (extract.tmpl, decide.tmpl, procedural.tmpl, vision.tmpl, retry.tmpl), each
// with a typed data struct and one render function; the tool definitions the
// model calls (JSON Schema parameters); and strict parsers of the tool
// arguments it sends back.
//
// An add with inference makes at most two model calls: Extract asks for one
// forced call of extract_memories (ParseExtraction reads it), and Decide asks
// for one turn of add/update/delete/noop calls against candidates named by
// short ids F1…, M1…, R1… (ParseDecision reads them). When a decision reply
// cannot be used, RetryMessage is the user turn of the single retry.
//
// Text that comes from users or models (messages, facts, memories, names) is
// rendered as JSON strings, so it reads as data and cannot forge headings,
// turns or ids in a prompt. Parsers never repair a reply silently: every
// problem is reported as a graph.Invalid error whose fields name the bad part
// ("facts[2].text", "calls[3].id") in words a model can act on.
//
// The package imports only the standard library and graph; it knows nothing
// about providers (the llm package converts ToolSpec and Call).
package prompts
