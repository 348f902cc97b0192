package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
)

// config is everything the server reads from the environment, read once here.
type config struct {
	Addr            string        `env:"NEOMEM_ADDR" validate:"required"`
	Neo4jURI        string        `env:"NEO4J_URI" validate:"required,neo4juri"`
	Neo4jUsername   string        `env:"NEO4J_USERNAME"`
	Neo4jPassword   string        `env:"NEO4J_PASSWORD"`
	Neo4jDatabase   string        `env:"NEO4J_DATABASE"`
	EmbeddingDims   int           `env:"NEOMEM_EMBEDDING_DIMS" validate:"min=1,max=4096"`
	LogLevel        string        `env:"NEOMEM_LOG_LEVEL" validate:"oneof=debug info warn error"`
	LogFormat       string        `env:"NEOMEM_LOG_FORMAT" validate:"oneof=text json"`
	StartupTimeout  time.Duration `env:"NEOMEM_STARTUP_TIMEOUT" validate:"min=0"`
	ShutdownTimeout time.Duration `env:"NEOMEM_SHUTDOWN_TIMEOUT" validate:"min=0"`
}

func defaultConfig() config {
	return config{
		Addr:            ":8080",
		Neo4jURI:        "bolt://localhost:7687",
		Neo4jUsername:   "neo4j",
		EmbeddingDims:   384,
		LogLevel:        "info",
		LogFormat:       "text",
		StartupTimeout:  60 * time.Second,
		ShutdownTimeout: 15 * time.Second,
	}
}

// configVars lists every variable, its default and meaning, for -help and the
// README's configuration table.
var configVars = []struct{ name, def, help string }{
	{"NEOMEM_ADDR", ":8080", "HTTP listen address (host:port; port 0 picks a free one)"},
	{"NEO4J_URI", "bolt://localhost:7687", "Neo4j address: bolt://, neo4j:// (routing, clusters, Aura), +s/+ssc for TLS"},
	{"NEO4J_USERNAME", "neo4j", "Neo4j user"},
	{"NEO4J_PASSWORD", "", "Neo4j password (empty: connect without authentication)"},
	{"NEO4J_DATABASE", "", "Neo4j database (empty: the server's default database)"},
	{"NEOMEM_EMBEDDING_DIMS", "384", "embedding dimension; sizes the vector indexes (a mismatch with existing indexes stops start-up)"},
	{"NEOMEM_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"NEOMEM_LOG_FORMAT", "text", "text or json"},
	{"NEOMEM_STARTUP_TIMEOUT", "60s", "how long start-up waits for Neo4j to answer"},
	{"NEOMEM_SHUTDOWN_TIMEOUT", "15s", "how long shutdown waits for requests in flight"},
}

func loadConfig(getenv func(string) string) (config, error) {
	c := defaultConfig()
	var errs []string
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	num := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q is not an integer", name, v))
				return
			}
			*dst = n
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q is not a duration such as 30s or 2m", name, v))
				return
			}
			*dst = d
		}
	}
	str("NEOMEM_ADDR", &c.Addr)
	str("NEO4J_URI", &c.Neo4jURI)
	str("NEO4J_USERNAME", &c.Neo4jUsername)
	c.Neo4jPassword = getenv("NEO4J_PASSWORD")
	str("NEO4J_DATABASE", &c.Neo4jDatabase)
	num("NEOMEM_EMBEDDING_DIMS", &c.EmbeddingDims)
	str("NEOMEM_LOG_LEVEL", &c.LogLevel)
	str("NEOMEM_LOG_FORMAT", &c.LogFormat)
	dur("NEOMEM_STARTUP_TIMEOUT", &c.StartupTimeout)
	dur("NEOMEM_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	c.LogLevel = strings.ToLower(c.LogLevel)
	c.LogFormat = strings.ToLower(c.LogFormat)
	if len(errs) == 0 {
		errs = validateConfig(c)
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

var validate = func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	_ = v.RegisterValidation("neo4juri", func(fl validator.FieldLevel) bool {
		u, err := url.Parse(fl.Field().String())
		if err != nil || u.Host == "" {
			return false
		}
		switch u.Scheme {
		case "bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc":
			return true
		}
		return false
	})
	return v
}()

// validateConfig returns one message per bad variable, naming it.
func validateConfig(c config) []string {
	err := validate.Struct(c)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !asValidationErrors(err, &verrs) {
		return []string{err.Error()}
	}
	var out []string
	for _, fe := range verrs {
		name := envName(fe.StructField())
		switch fe.Tag() {
		case "required":
			out = append(out, name+" must not be empty")
		case "neo4juri":
			out = append(out, fmt.Sprintf("%s=%q is not a bolt://, neo4j:// (or +s, +ssc) address with a host", name, fe.Value()))
		case "oneof":
			out = append(out, fmt.Sprintf("%s=%q must be one of: %s", name, fe.Value(), fe.Param()))
		default:
			out = append(out, fmt.Sprintf("%s=%v is out of range (%s %s)", name, fe.Value(), fe.Tag(), fe.Param()))
		}
	}
	return out
}

func asValidationErrors(err error, dst *validator.ValidationErrors) bool {
	v, ok := err.(validator.ValidationErrors)
	if ok {
		*dst = v
	}
	return ok
}

// envName returns the variable behind a config field, from its env tag.
func envName(field string) string {
	if f, ok := reflect.TypeOf(config{}).FieldByName(field); ok {
		if n := f.Tag.Get("env"); n != "" {
			return n
		}
	}
	return field
}

// LogValue masks secrets when the configuration is logged.
func (c config) LogValue() slog.Value {
	pw := ""
	if c.Neo4jPassword != "" {
		pw = "********"
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("neo4j_uri", c.Neo4jURI),
		slog.String("neo4j_username", c.Neo4jUsername),
		slog.String("neo4j_password", pw),
		slog.String("neo4j_database", c.Neo4jDatabase),
		slog.Int("embedding_dims", c.EmbeddingDims),
		slog.String("log_level", c.LogLevel),
		slog.Duration("startup_timeout", c.StartupTimeout),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
	)
}
