/* hiredis scenario: a C client (libhiredis) runs commands and a pipeline
 * against the server on 127.0.0.1:$RINGKV_PORT and checks every reply. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond, what)                                 \
  do {                                                    \
    if (!(cond)) {                                        \
      fprintf(stderr, "FAIL: %s (line %d)\n", what, __LINE__); \
      failures++;                                         \
    }                                                     \
  } while (0)

int main(void) {
  const char* port_env = getenv("RINGKV_PORT");
  int port = port_env ? atoi(port_env) : 6379;
  struct timeval tv = {10, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == NULL || c->err) {
    fprintf(stderr, "connect failed\n");
    return 1;
  }
  redisReply* r = redisCommand(c, "PING");
  CHECK(r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0, "PING");
  freeReplyObject(r);
  r = redisCommand(c, "SET %s %b", "hk", "v\0x", (size_t)3);
  CHECK(r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0, "SET binary");
  freeReplyObject(r);
  r = redisCommand(c, "GET hk");
  CHECK(r && r->type == REDIS_REPLY_STRING && r->len == 3 && memcmp(r->str, "v\0x", 3) == 0,
        "GET binary");
  freeReplyObject(r);
  r = redisCommand(c, "GET nokey");
  CHECK(r && r->type == REDIS_REPLY_NIL, "GET missing -> nil");
  freeReplyObject(r);
  r = redisCommand(c, "INCR counter");
  CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1, "INCR");
  freeReplyObject(r);
  r = redisCommand(c, "NOSUCHCMD");
  CHECK(r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "ERR unknown command", 19) == 0,
        "unknown command error");
  freeReplyObject(r);

  /* Pipeline: 10000 SETs then MGET of a few. */
  const int n = 10000;
  for (int i = 0; i < n; i++) redisAppendCommand(c, "SET key:%d %d", i, i);
  redisAppendCommand(c, "MGET key:0 key:9999 nokey");
  for (int i = 0; i < n; i++) {
    void* reply = NULL;
    if (redisGetReply(c, &reply) != REDIS_OK) {
      CHECK(0, "pipeline reply");
      break;
    }
    redisReply* rr = reply;
    if (i == 0 || i == n - 1) CHECK(rr->type == REDIS_REPLY_STATUS, "pipelined SET");
    freeReplyObject(rr);
  }
  void* mr = NULL;
  CHECK(redisGetReply(c, &mr) == REDIS_OK, "MGET reply");
  r = mr;
  CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3, "MGET array");
  if (r && r->elements == 3) {
    CHECK(strcmp(r->element[0]->str, "0") == 0, "MGET[0]");
    CHECK(strcmp(r->element[1]->str, "9999") == 0, "MGET[1]");
    CHECK(r->element[2]->type == REDIS_REPLY_NIL, "MGET[2] nil");
  }
  freeReplyObject(r);
  redisFree(c);
  if (failures) return 1;
  printf("ok\n");
  return 0;
}
