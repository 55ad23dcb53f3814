// Package units owns how figures are written for people: latencies with
// their unit, rates without false precision, shares as percentages, byte
// counts. Every renderer and message that shows a figure writes it with
// these functions, so one figure reads the same in a table, a report, a
// verdict and a progress line.
//
// It only formats: it parses nothing, and it knows nothing of results,
// renderers or the capacity search.
package units
