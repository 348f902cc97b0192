package vector_test

import (
	"testing"

	"github.com/neomem/neomem/vector"
)

func TestFusionWithDefaults(t *testing.T) {
	d := vector.DefaultFusion
	for _, tc := range []struct {
		name    string
		in      vector.Fusion
		want    vector.Fusion
		wantErr bool
	}{
		{name: "zero takes the defaults", in: vector.Fusion{}, want: d},
		{name: "zero weights with K keep K", in: vector.Fusion{K: 10},
			want: vector.Fusion{VectorWeight: d.VectorWeight, TextWeight: d.TextWeight, GraphWeight: d.GraphWeight, TimeWeight: d.TimeWeight, K: 10}},
		{name: "time only", in: vector.Fusion{TimeWeight: 3}, want: vector.Fusion{TimeWeight: 3, K: d.K}},
		{name: "negative time weight", in: vector.Fusion{VectorWeight: 1, TimeWeight: -1}, wantErr: true},
		{name: "one weight set turns the others off", in: vector.Fusion{VectorWeight: 1}, want: vector.Fusion{VectorWeight: 1, K: d.K}},
		{name: "graph only", in: vector.Fusion{GraphWeight: 2}, want: vector.Fusion{GraphWeight: 2, K: d.K}},
		{name: "vector and text without graph", in: vector.Fusion{VectorWeight: 1, TextWeight: 1},
			want: vector.Fusion{VectorWeight: 1, TextWeight: 1, K: d.K}},
		{name: "negative graph weight", in: vector.Fusion{GraphWeight: -0.5}, wantErr: true},
		{name: "negative graph weight beside positive ones", in: vector.Fusion{VectorWeight: 1, TextWeight: 1, GraphWeight: -1}, wantErr: true},
		{name: "negative text weight", in: vector.Fusion{TextWeight: -1, GraphWeight: 1}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.WithDefaults()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("%+v.WithDefaults() = %+v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%+v.WithDefaults() = %+v, %v, want %+v", tc.in, got, err, tc.want)
			}
		})
	}
	if d.VectorWeight <= 0 || d.TextWeight <= 0 || d.GraphWeight <= 0 || d.TimeWeight <= 0 || d.K <= 0 {
		t.Fatalf("DefaultFusion = %+v: every ranking should count", d)
	}
}
