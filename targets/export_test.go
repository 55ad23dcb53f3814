package targets

// KindConstants is kindConstants for the external tests.
var KindConstants = kindConstants
