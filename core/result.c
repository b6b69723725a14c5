/*
** result.c: result-code names and messages, and the constants JSON that bindings read at start-up,
** all generated from the X-macro lists in valori.h so nothing is written twice.
*/
#include "valori.h"

const char *valori_strerror(int code) {
  switch (code) {
#define VALORI_X_MSG(name, num, msg) case num: return msg;
    VALORI_RESULT_CODES(VALORI_X_MSG)
#undef VALORI_X_MSG
    default: return "unknown result code";
  }
}

const char *valori_code_name(int code) {
  switch (code) {
#define VALORI_X_NAME(name, num, msg) case num: return #name;
    VALORI_RESULT_CODES(VALORI_X_NAME)
#undef VALORI_X_NAME
    default: return "UNKNOWN";
  }
}

#define VL_STR_(x) #x
#define VL_STR(x) VL_STR_(x)
#define VALORI_X_JSON(name, num, msg) "\"" #name "\":" #num ","

/* The VALORI_UPDATE_* bits are unsigned literals ("1u" is not JSON), so the JSON spells their
** values out; this keeps the two from drifting apart. */
_Static_assert(VALORI_UPDATE_VECTOR == 1u && VALORI_UPDATE_TAG == 2u && VALORI_UPDATE_META == 4u,
               "valori_constants_json spells the VALORI_UPDATE_* values");
_Static_assert(VALORI_FRAME_OVERHEAD == 12u && VALORI_FRAME_HELLO_LEN == 92u && VALORI_FRAME_HEARTBEAT_LEN == 48u &&
                   VALORI_FRAME_MAX_MESSAGE == 1024u,
               "valori_constants_json spells the VALORI_FRAME_* sizes");

const char *valori_constants_json(void) {
  return "{\"version\":\"" VALORI_VERSION_STRING "\","
         "\"codes\":{" VALORI_RESULT_CODES(VALORI_X_JSON) "\"_end\":-1},"
         "\"metric\":{\"L2\":" VL_STR(VALORI_METRIC_L2) ",\"IP\":" VL_STR(VALORI_METRIC_IP) "},"
         "\"index\":{\"HNSW\":" VL_STR(VALORI_INDEX_HNSW) ",\"NONE\":" VL_STR(VALORI_INDEX_NONE) "},"
         "\"sync\":{\"FULL\":" VL_STR(VALORI_SYNC_FULL) ",\"RELAXED\":" VL_STR(VALORI_SYNC_RELAXED) "},"
         "\"open\":{\"CREATE\":" VL_STR(VALORI_OPEN_CREATE) ",\"READONLY\":" VL_STR(VALORI_OPEN_READONLY) "},"
         "\"search\":{\"AUTO\":" VL_STR(VALORI_SEARCH_AUTO) ",\"EXACT\":" VL_STR(VALORI_SEARCH_EXACT)
         ",\"HNSW\":" VL_STR(VALORI_SEARCH_HNSW) "},"
         "\"vfs\":{\"READ\":" VL_STR(VALORI_VFS_READ) ",\"WRITE\":" VL_STR(VALORI_VFS_WRITE) ",\"CREATE\":" VL_STR(VALORI_VFS_CREATE)
         ",\"EXCL\":" VL_STR(VALORI_VFS_EXCL) ",\"TRUNC\":" VL_STR(VALORI_VFS_TRUNC) "},"
         "\"dir\":{\"OUT\":" VL_STR(VALORI_DIR_OUT) ",\"IN\":" VL_STR(VALORI_DIR_IN) ",\"BOTH\":" VL_STR(VALORI_DIR_BOTH) "},"
         "\"op\":{\"INSERT\":" VL_STR(VALORI_OP_INSERT) ",\"INSERT_BATCH\":" VL_STR(VALORI_OP_INSERT_BATCH)
         ",\"DELETE\":" VL_STR(VALORI_OP_DELETE) ",\"UPDATE\":" VL_STR(VALORI_OP_UPDATE)
         ",\"SET_META\":" VL_STR(VALORI_OP_SET_META) ",\"UPDATE_RECORD\":" VL_STR(VALORI_OP_UPDATE_RECORD)
         ",\"NODE_CREATE\":" VL_STR(VALORI_OP_NODE_CREATE)
         ",\"NODE_DELETE\":" VL_STR(VALORI_OP_NODE_DELETE) ",\"EDGE_CREATE\":" VL_STR(VALORI_OP_EDGE_CREATE)
         ",\"EDGE_DELETE\":" VL_STR(VALORI_OP_EDGE_DELETE) "},"
         "\"update\":{\"VECTOR\":1,\"TAG\":2,\"META\":4},"
         "\"frame\":{\"HELLO\":" VL_STR(VALORI_FRAME_HELLO) ",\"RECORD\":" VL_STR(VALORI_FRAME_RECORD)
         ",\"HEARTBEAT\":" VL_STR(VALORI_FRAME_HEARTBEAT) ",\"ERROR\":" VL_STR(VALORI_FRAME_ERROR)
         ",\"VERSION\":" VL_STR(VALORI_FRAME_VERSION) ",\"OVERHEAD\":12,\"HELLO_LEN\":92,\"HEARTBEAT_LEN\":48,"
         "\"MAX_MESSAGE\":1024},"
         "\"diverged\":{\"CHAIN\":" VL_STR(VALORI_DIVERGED_CHAIN) ",\"ROOT\":" VL_STR(VALORI_DIVERGED_ROOT)
         ",\"EVENT\":" VL_STR(VALORI_DIVERGED_EVENT) "},"
         "\"limits\":{\"MAX_DIM\":" VL_STR(VALORI_MAX_DIM) ",\"MAX_ABS\":" VL_STR(VALORI_MAX_ABS_INT)
         ",\"Q16_ONE\":" VL_STR(VALORI_Q16_ONE) ",\"MAX_META\":" VL_STR(VALORI_MAX_META)
         ",\"MAX_K\":" VL_STR(VALORI_MAX_K) ",\"MAX_EF\":" VL_STR(VALORI_MAX_EF)
         ",\"MAX_BATCH\":" VL_STR(VALORI_MAX_BATCH) ",\"MAX_HOPS\":" VL_STR(VALORI_MAX_HOPS)
         ",\"MAX_TAGS\":" VL_STR(VALORI_MAX_TAGS) ",\"HNSW_MAX_M\":" VL_STR(VALORI_HNSW_MAX_M) "}}";
}
