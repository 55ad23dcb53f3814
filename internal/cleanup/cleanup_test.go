package cleanup

import (
	"slices"
	"testing"
)

func TestRunNewestFirstOnceEach(t *testing.T) {
	var got []int
	a := Register(func() { got = append(got, 1) })
	_ = Register(func() { got = append(got, 2) })
	_ = Register(func() { panic("a failing action does not stop the others") })
	removed := Register(func() { got = append(got, 4) })
	_ = Register(func() { got = append(got, 5) })
	removed()
	removed() // twice is harmless
	Run()
	if want := []int{5, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("Run called %v, want %v (newest first, the unregistered one not at all)", got, want)
	}
	if n := Pending(); n != 0 {
		t.Fatalf("%d actions left after Run", n)
	}
	Run()
	if len(got) != 3 {
		t.Fatalf("a second Run called actions again: %v", got)
	}
	a() // unregistering after Run is harmless
}
