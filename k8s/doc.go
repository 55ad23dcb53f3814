// Package k8s owns running one sharded scenario as a Kubernetes Indexed
// Job and getting its results back: Render writes the objects (a Secret
// with the client identities, a ConfigMap with the scenario, a headless
// Service for the start barrier and the Job) as plain YAML for
// 'kubectl apply -f', and Collect reads each shard's result from its pod's
// log through kubectl.
//
// It builds objects from the Kubernetes API's own Go types and talks to a
// cluster only by running kubectl: it links no client library. It runs no
// load, and it merges nothing: the shards it collects go to
// results.Merge. Errors say "k8s: "; an *InputError is a request that
// cannot be served as asked (bad options, no such Job, a Job that has not
// finished), a *ShardsError a Job that finished without a result from
// every shard.
package k8s
