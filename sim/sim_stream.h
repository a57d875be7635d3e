/* sim_stream.h: the contents of one direction of a simulated connection between the sender's
 * write and the receiver's delivery: runs of real bytes (control messages, and payload in
 * real-bytes mode) and virtual payload spans (counts with their piece and offset). The network
 * moves counts; this queue says what those bytes were. */
#ifndef SIM_STREAM_H
#define SIM_STREAM_H

#include "bt.h"

typedef enum sim_span_kind {
    SIM_SPAN_CTRL = 0,     /* real bytes, protocol framing and control messages */
    SIM_SPAN_PAYLOAD = 1,  /* real payload bytes (real-bytes mode) */
    SIM_SPAN_VIRTUAL = 2,  /* virtual payload: a count only */
} sim_span_kind;

typedef struct sim_span {
    uint32_t len;
    uint8_t kind;
    uint32_t piece, begin; /* payload spans */
} sim_span;

#define SIM_STREAM_INLINE_SPANS 4  /* spans held in the stream itself (a power of two) */
#define SIM_STREAM_INLINE_BYTES 64 /* real bytes held in the stream itself */

/* The small queues live in the stream itself: most streams carry a few control messages at a
 * time, and a delivery then touches only the stream's own (adjacent) cache lines. */
typedef struct sim_stream {
    sim_span *spans;   /* ring: |inline_spans| until it needs more, then the heap */
    uint32_t head, count, cap;
    size_t off;
    bt_buf bytes;      /* real bytes of CTRL and PAYLOAD spans, from |off| on: |inline_bytes|
                          until they need more, then the heap */
    uint64_t queued;   /* bytes in all spans */
    sim_span inline_spans[SIM_STREAM_INLINE_SPANS];
    uint8_t inline_bytes[SIM_STREAM_INLINE_BYTES];
} sim_stream;

void sim_stream_init(sim_stream *s);
void sim_stream_free(sim_stream *s);
/* Appends; returns 0 or BT_ERR_NOMEM. */
int sim_stream_push_bytes(sim_stream *s, uint8_t kind, const uint8_t *data, uint32_t len,
                          uint32_t piece, uint32_t begin);
int sim_stream_push_virtual(sim_stream *s, uint32_t piece, uint32_t begin, uint32_t len);

/* The head span, with up to |max| bytes of it: *data points at its real bytes (NULL for
 * virtual). Returns the byte count (0 when empty). */
uint32_t sim_stream_peek(const sim_stream *s, uint64_t max, const sim_span **span,
                         const uint8_t **data);
void sim_stream_consume(sim_stream *s, uint32_t n); /* n <= the head span's length */

#endif
