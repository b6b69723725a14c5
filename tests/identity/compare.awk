# compare.awk: compares one target's transcript of one configuration with its golden transcript.
#   awk -v target=T -v config=C [-v store=1] -f compare.awk GOLDEN ACTUAL
# Prints one "MISMATCH ..." line per component that differs (first height only, with both values)
# and a final "RESULT root=... digest=... snapshot=... results=... other=..." line whose values are
# "ok" or the first height (ev=N) at which that component differed.
# store=1: the transcript comes from a durable store (identity_runner --store, workload.h's
# wl_run_store): every golden checkpoint must also have a "reopened ev=N" line whose state fields
# equal the golden ones, the "store large-file=" check must say OK, and "store verify=" must be OK
# at the last checkpoint's height and root.
function comp(k) {
  if (k == "root" || k == "height" || k == "records" || k == "nodes" || k == "edges") return "root"
  if (k == "digest" || k == "tomb") return "digest"
  if (k == "snap" || k == "snaplen") return "snapshot"
  if (k == "results" || k == "codes") return "results"
  return "other" # stream (the generator), check, reload, header, summary
}
function note(c, ev, what) {
  if (first[c] != "") return
  first[c] = ev
  printf "MISMATCH target=%s config=%s height=ev=%s component=%s: %s\n", target, config, ev, c, what
}
FNR == 1 { file++ }
{
  kind = ($1 ~ /^ev=/) ? "cp" : ($1 == "identity") ? "head" : ($1 == "end") ? "end" : ($1 == "UNEXPECTED" || $1 == "FATAL") ? "bad" : ($1 == "reopened") ? "reopened" : ($1 == "store") ? "store" : "skip"
  if (kind == "skip") next
  if (file == 2 && kind == "reopened") { key = $2; sub(/^ev=/, "", key); reopened[key] = $0; next }
  if (file == 2 && kind == "store") { split($2, kv, "="); storeline[kv[1]] = $0; next }
  if (kind == "cp") { key = $1; sub(/^ev=/, "", key) } else key = kind
  if (file == 1) { if (kind == "cp") order[++n] = key; gold[key] = $0; next }
  if (kind == "bad") { nbad++; if (badline == "") badline = $0; next }
  act[key] = $0
}
END {
  split("root digest snapshot results other", comps, " ")
  for (i = 1; i <= n; i++) {
    ev = order[i]
    if (!(ev in act)) {
      last = "the transcript ends before this height"
      for (j = 1; j <= 5; j++) note(comps[j], ev, last)
      break
    }
    ng = split(gold[ev], g, " "); split(act[ev], a, " ")
    delete av
    for (j = 1; j <= ng; j++) { split(a[j], kv, "="); av[kv[1]] = substr(a[j], length(kv[1]) + 2) }
    for (j = 1; j <= ng; j++) {
      split(g[j], kv, "="); k = kv[1]; v = substr(g[j], length(k) + 2)
      if (av[k] != v) note(comp(k), ev, k " expected " v " got " (k in av ? av[k] : "(missing)"))
    }
  }
  if (store) {
    for (i = 1; i <= n; i++) { # the reopened state at every checkpoint: the golden state fields
      ev = order[i]
      if (!(ev in reopened)) { note("other", ev, "store: no reopened state after this checkpoint"); break }
      ng = split(gold[ev], g, " "); na = split(reopened[ev], a, " ")
      delete av
      for (j = 2; j <= na; j++) { split(a[j], kv, "="); av[kv[1]] = substr(a[j], length(kv[1]) + 2) }
      for (j = 2; j <= ng; j++) {
        split(g[j], kv, "="); k = kv[1]; v = substr(g[j], length(k) + 2)
        if (k in av && av[k] != v) note(comp(k), ev, "store reopened: " k " expected " v " got " av[k])
      }
      if (!("root" in av) || !("digest" in av) || !("snap" in av)) note("other", ev, "store reopened line lacks fields: " reopened[ev])
    }
    if (!("large-file" in storeline) || storeline["large-file"] !~ / large-file=OK /) note("other", "0", "store: 64-bit file offsets: " (("large-file" in storeline) ? storeline["large-file"] : "no large-file line"))
    if (n) {
      split(gold[order[n]], g, " "); delete gv
      for (j = 1; j in g; j++) { split(g[j], kv, "="); gv[kv[1]] = substr(g[j], length(kv[1]) + 2) }
      want = "store verify=OK height=" gv["height"] " root=" gv["root"]
      if (!("verify" in storeline)) note("other", "end", "store: no verify line")
      else if (storeline["verify"] != want) note(storeline["verify"] ~ /verify=OK / ? "root" : "other", "end", "store: expected '" want "' got '" storeline["verify"] "'")
    }
  }
  if (gold["head"] != act["head"]) note("other", "0", "header differs: got '" act["head"] "'")
  if (nbad) note("other", "-", nbad " internal check failure(s), first: " badline)
  if (gold["end"] != act["end"] && first["other"] == "") note("results", "end", "summary expected '" gold["end"] "' got '" act["end"] "'")
  printf "RESULT"
  for (j = 1; j <= 5; j++) printf " %s=%s", comps[j], (first[comps[j]] == "" ? "ok" : first[comps[j]])
  printf "\n"
}
