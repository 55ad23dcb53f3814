# The mtlsbench container image, for 'mtlsbench k8s render --image' (see
# docs/k8s.md): the static binary alone, as a non-root user. Build it with
# 'make image', which compiles bin/mtlsbench-static (CGO_ENABLED=0) first;
# nothing is pulled. The pods mount their scenario, PKI and a /tmp.
FROM scratch
COPY bin/mtlsbench-static /mtlsbench
# 65532 ("nonroot" in distroless images): the uid the rendered pods run as.
USER 65532:65532
ENTRYPOINT ["/mtlsbench"]
