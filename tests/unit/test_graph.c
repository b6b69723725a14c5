/*
** test_graph.c: the knowledge graph: neighbours in creation order with kind filters, cascades
** (record delete removes its node and edges; node delete removes its edges), self loops, k-hop
** expansion order (depth, then node id) and bounds, search-then-expand, and the state root's
** independence from layout (batch vs single inserts, tag changes undone).
*/
#include "valori.h"
#include "vt.h"

static valori_db *open4(void) {
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = 2;
  valori_open(":memory:", &o, &db);
  return db;
}

static void test_neighbors_and_cascade(void) {
  valori_db *db = open4();
  float v[2] = {1, 1}, w = 2.5f;
  uint64_t r1, r2, n1, n2, n3, e[5];
  valori_edge out[8];
  valori_node nd;
  size_t n;
  uint32_t kind = 7;
  char label[8];
  VT_REQUIRE(db);
  valori_insert(db, v, 0, NULL, 0, &r1);
  valori_insert(db, v, 0, NULL, 0, &r2);
  VT_EQ_INT(valori_node_create(db, 1, r1, "one", 3, &n1), VALORI_OK);
  VT_EQ_INT(valori_node_create(db, 2, r2, NULL, 0, &n2), VALORI_OK);
  VT_EQ_INT(valori_node_create(db, 3, 0, "free", 4, &n3), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n1, n2, 7, &w, &e[0]), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n1, n3, 8, NULL, &e[1]), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n3, n1, 7, NULL, &e[2]), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n1, n1, 9, NULL, &e[3]), VALORI_OK); /* self loop */
  VT_EQ_INT(valori_neighbors(db, n1, VALORI_DIR_OUT, NULL, out, 8, &n), VALORI_OK);
  VT_EQ_INT(n, 3);
  VT_EQ_INT(out[0].id, e[0]); VT_EQ_INT(out[1].id, e[1]); VT_EQ_INT(out[2].id, e[3]);
  VT_EQ_INT(out[0].has_weight, 1); VT_EQ_INT(out[0].weight_q16, 5 * 32768);
  VT_EQ_INT(valori_neighbors(db, n1, VALORI_DIR_BOTH, &kind, out, 1, &n), VALORI_OK);
  VT_EQ_INT(n, 2); /* total reported even though cap is 1 */
  VT_EQ_INT(out[0].id, e[0]);
  VT_EQ_INT(valori_node_get(db, n1, &nd, label, sizeof label, &n), VALORI_OK);
  VT_EQ_INT(nd.record_id, r1); VT_EQ_INT(n, 3); VT_CHECK(memcmp(label, "one", 3) == 0);
  VT_EQ_INT(valori_node_of_record(db, r2, &n), VALORI_OK);
  /* deleting record r1 removes node n1 and its four edges */
  VT_EQ_INT(valori_delete(db, r1), VALORI_OK);
  VT_EQ_INT(valori_node_get(db, n1, NULL, NULL, 0, NULL), VALORI_ENOTFOUND);
  VT_EQ_INT(valori_neighbors(db, n3, VALORI_DIR_BOTH, NULL, out, 8, &n), VALORI_OK);
  VT_EQ_INT(n, 0);
  {
    valori_stats st;
    valori_stats_get(db, &st);
    VT_EQ_INT(st.nodes, 2); VT_EQ_INT(st.edges, 0); VT_EQ_INT(st.records, 1);
  }
  /* deleting a node unlinks its record but keeps it */
  VT_EQ_INT(valori_edge_create(db, n2, n3, 1, NULL, &e[4]), VALORI_OK);
  VT_EQ_INT(valori_node_delete(db, n2), VALORI_OK);
  VT_EQ_INT(valori_get(db, r2, NULL, NULL, NULL, 0, NULL), VALORI_OK);
  VT_EQ_INT(valori_node_of_record(db, r2, &n), VALORI_ENOTFOUND);
  VT_EQ_INT(valori_edge_delete(db, e[4]), VALORI_ENOTFOUND);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  valori_close(db);
}

static void test_expand_order(void) {
  /* chain 1->2, 1->5, 1->4, 2->3, 5->3, 4->6 : depth 1 = {2,4,5}, depth 2 = {3,6} */
  valori_db *db = open4();
  uint64_t nd[7], e, seeds[2];
  valori_reach r[16];
  size_t n;
  int i;
  VT_REQUIRE(db);
  for (i = 1; i <= 6; i++) valori_node_create(db, 0, 0, NULL, 0, &nd[i]);
  valori_edge_create(db, nd[1], nd[2], 0, NULL, &e);
  valori_edge_create(db, nd[1], nd[5], 0, NULL, &e);
  valori_edge_create(db, nd[1], nd[4], 0, NULL, &e);
  valori_edge_create(db, nd[2], nd[3], 0, NULL, &e);
  valori_edge_create(db, nd[5], nd[3], 0, NULL, &e);
  valori_edge_create(db, nd[4], nd[6], 0, NULL, &e);
  seeds[0] = nd[1];
  VT_EQ_INT(valori_expand(db, seeds, 1, 2, VALORI_DIR_OUT, 100, r, 16, &n), VALORI_OK);
  VT_EQ_INT(n, 6);
  VT_EQ_INT(r[0].node_id, 1); VT_EQ_INT(r[0].depth, 0);
  VT_EQ_INT(r[1].node_id, 2); VT_EQ_INT(r[2].node_id, 4); VT_EQ_INT(r[3].node_id, 5);
  VT_EQ_INT(r[1].depth, 1); VT_EQ_INT(r[3].via_edge, 2);
  VT_EQ_INT(r[4].node_id, 3); VT_EQ_INT(r[4].via_edge, 4); /* first reached from 2 */
  VT_EQ_INT(r[5].node_id, 6); VT_EQ_INT(r[5].depth, 2);
  VT_EQ_INT(valori_expand(db, seeds, 1, 1, VALORI_DIR_OUT, 3, r, 16, &n), VALORI_OK);
  VT_EQ_INT(n, 3); /* bounded by max_nodes */
  VT_EQ_INT(valori_expand(db, seeds, 1, 2, VALORI_DIR_OUT, 100, NULL, 0, &n), VALORI_OK); /* count only */
  VT_EQ_INT(n, 6);
  VT_EQ_INT(valori_expand(db, NULL, 0, 2, VALORI_DIR_OUT, 100, NULL, 0, &n), VALORI_OK);
  VT_EQ_INT(n, 0);
  seeds[0] = nd[3]; seeds[1] = nd[3];
  VT_EQ_INT(valori_expand(db, seeds, 2, 2, VALORI_DIR_IN, 100, r, 2, &n), VALORI_OK);
  VT_EQ_INT(n, 4); /* 3; 2,5; 1 -- only 2 written */
  VT_EQ_INT(r[0].node_id, 3); VT_EQ_INT(r[1].node_id, 2);
  valori_close(db);
}

static void test_search_expand(void) {
  valori_db *db = open4();
  float v[8] = {0, 0, 10, 10, 0.5f, 0, 20, 20}, q[2] = {0, 0};
  uint64_t first, na, nb, nc, e;
  valori_hit hits[2];
  valori_reach r[8];
  size_t nh, nr;
  valori_search_params p = {2, 0, VALORI_SEARCH_AUTO, 0, NULL};
  VT_REQUIRE(db);
  valori_insert_batch(db, 4, v, NULL, NULL, NULL, &first);
  valori_node_create(db, 0, 1, NULL, 0, &na);
  valori_node_create(db, 0, 3, NULL, 0, &nb);
  valori_node_create(db, 0, 0, "fact", 4, &nc);
  valori_edge_create(db, na, nc, 0, NULL, &e);
  VT_EQ_INT(valori_search_expand(db, NULL, q, &p, 1, VALORI_DIR_OUT, 10, hits, &nh, r, 8, &nr), VALORI_OK);
  VT_EQ_INT(nh, 2); VT_EQ_INT(hits[0].id, 1); VT_EQ_INT(hits[1].id, 3);
  VT_EQ_INT(nr, 3); /* seeds na, nb and the fact */
  VT_EQ_INT(r[0].node_id, na); VT_EQ_INT(r[1].node_id, nb); VT_EQ_INT(r[2].node_id, nc);
  valori_close(db);
}

static void test_root_is_layout_independent(void) {
  valori_db *a = open4(), *b = open4();
  float v[20];
  uint64_t first, id, t1 = 1, t0 = 0;
  uint8_t ra[32], rb[32], r0[32];
  int i;
  VT_REQUIRE(a && b);
  for (i = 0; i < 20; i++) v[i] = (float)i * 0.25f;
  valori_insert_batch(a, 10, v, NULL, NULL, NULL, &first);
  for (i = 0; i < 10; i++) valori_insert(b, v + 2 * i, 0, NULL, 0, &id);
  valori_state_root(a, ra);
  valori_state_root(b, rb);
  VT_CHECK(memcmp(ra, rb, 32) == 0);
  memcpy(r0, ra, 32);
  valori_update(a, 3, NULL, &t1);
  valori_state_root(a, ra);
  VT_CHECK(memcmp(ra, r0, 32) != 0);
  valori_update(a, 3, NULL, &t0);
  valori_state_root(a, ra);
  VT_CHECK(memcmp(ra, r0, 32) == 0);
  valori_close(a);
  valori_close(b);
}

int main(void) {
  VT_RUN(test_neighbors_and_cascade);
  VT_RUN(test_expand_order);
  VT_RUN(test_search_expand);
  VT_RUN(test_root_is_layout_independent);
  return VT_DONE();
}
