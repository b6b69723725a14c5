# compare.awk: compares one target's transcript of one configuration with its golden transcript.
#   awk -v target=T -v config=C -f compare.awk GOLDEN ACTUAL
# Prints one "MISMATCH ..." line per component that differs (first height only, with both values)
# and a final "RESULT root=... digest=... snapshot=... results=... other=..." line whose values are
# "ok" or the first height (ev=N) at which that component differed.
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
  kind = ($1 ~ /^ev=/) ? "cp" : ($1 == "identity") ? "head" : ($1 == "end") ? "end" : ($1 == "UNEXPECTED" || $1 == "FATAL") ? "bad" : "skip"
  if (kind == "skip") next
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
  if (gold["head"] != act["head"]) note("other", "0", "header differs: got '" act["head"] "'")
  if (nbad) note("other", "-", nbad " internal check failure(s), first: " badline)
  if (gold["end"] != act["end"] && first["other"] == "") note("results", "end", "summary expected '" gold["end"] "' got '" act["end"] "'")
  printf "RESULT"
  for (j = 1; j <= 5; j++) printf " %s=%s", comps[j], (first[comps[j]] == "" ? "ok" : first[comps[j]])
  printf "\n"
}
