/* Paged decode attention for float32 on a CPU: the engine's CPU path, beside the torch
   reference (reference_attention.paged_decode_attention) it must match.

   One query token per sequence attends to the first lens[b] positions of its blocks,
   read in place from the pool: no gather into a padded copy, which costs the torch
   reference a write and a second read of every key and value per layer and step.
   A sequence is one work item (its KV heads share its blocks, so a token's keys of all
   heads are one contiguous read; with fewer sequences than threads, a KV head's group is),
   the next block is prefetched while one is read, and one pass over the blocks keeps a running
   softmax (flash-decoding), so nothing of the length of the context is allocated.

   q, out [B, H, D]; k, v one layer of the pool [N, block_size, Hkv, D], contiguous;
   tables [B, table_stride] int32 block ids; lens [B] int32. D must be a multiple of 8.
   Returns 0; -1 (and computes nothing) when a length or a block id it would read lies
   outside the tables or the pool; -2 when memory for a block's scores is short. */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));

static inline v8 load8(const float *p) { v8 r; memcpy(&r, p, sizeof r); return r; }
static inline void store8(float *p, v8 x) { memcpy(p, &x, sizeof x); }
static inline float hsum8(v8 x) { return ((x[0] + x[4]) + (x[1] + x[5])) + ((x[2] + x[6]) + (x[3] + x[7])); }

/* The shape of one step's attention, the same for every work item. */
typedef struct {
    int64_t heads, group, head_dim, block_size, token_stride;
    float scale;
} Shape;

/* Ask for the same token offset of the sequence's next block: `width` floats from `first`. */
static inline void prefetch_next(const float *cache, int32_t block, int64_t offset, const Shape *shape,
                                 int64_t first, int64_t width) {
    const float *next = cache + ((int64_t)block * shape->block_size + offset) * shape->token_stride + first;
    for (int64_t c = 0; c < width; c += 16) __builtin_prefetch(next + c);
}

/* Query heads [h0, h1) of one sequence (whole KV groups) in one pass over its blocks with a
   running softmax: per block, its tokens' scores, then each head's running maximum and sum
   move on (rescaling what was summed so far) and the block's weighted values are added.
   scratch: (h1 - h0) * (block_size + 2) floats. */
static void attend(const float *qb, const float *k, const float *v, const int32_t *table, int64_t len,
                   float *ob, float *scratch, int64_t h0, int64_t h1, const Shape *shape) {
    const int64_t head_dim = shape->head_dim, block_size = shape->block_size, group = shape->group;
    const int64_t lanes = head_dim / 8, heads = h1 - h0, stride = shape->token_stride;
    const int64_t first = h0 / group * head_dim, width = heads / group * head_dim;
    float *scores = scratch, *top = scratch + heads * block_size, *total = top + heads;
    float *out = ob + h0 * head_dim;
    memset(out, 0, sizeof(float) * heads * head_dim);
    for (int64_t h = 0; h < heads; h++) { top[h] = -INFINITY; total[h] = 0.f; }
    for (int64_t t0 = 0; t0 < len; t0 += block_size) {
        const int64_t n = len - t0 < block_size ? len - t0 : block_size, block = t0 / block_size;
        const float *kb = k + (int64_t)table[block] * block_size * stride;
        const float *vb = v + (int64_t)table[block] * block_size * stride;
        for (int64_t i = 0; i < n; i++) {
            if (t0 + block_size < len) prefetch_next(k, table[block + 1], i, shape, first, width);
            const float *kt = kb + i * stride;
            for (int64_t h = 0; h < heads; h++) {
                const float *kh = kt + (h0 + h) / group * head_dim, *qh = qb + (h0 + h) * head_dim;
                v8 acc = load8(qh) * load8(kh);
                for (int64_t l = 1; l < lanes; l++) acc += load8(qh + 8 * l) * load8(kh + 8 * l);
                scores[h * block_size + i] = hsum8(acc) * shape->scale;
            }
        }
        for (int64_t h = 0; h < heads; h++) {
            float *s = scores + h * block_size, *oh = out + h * head_dim, peak = top[h];
            for (int64_t i = 0; i < n; i++) peak = s[i] > peak ? s[i] : peak;
            const float rescale = expf(top[h] - peak);  /* 0 for the first block */
            if (rescale != 1.f)
                for (int64_t l = 0; l < lanes; l++) store8(oh + 8 * l, load8(oh + 8 * l) * rescale);
            total[h] *= rescale;
            for (int64_t i = 0; i < n; i++) { s[i] = expf(s[i] - peak); total[h] += s[i]; }
            top[h] = peak;
        }
        for (int64_t i = 0; i < n; i++) {
            if (t0 + block_size < len) prefetch_next(v, table[block + 1], i, shape, first, width);
            const float *vt = vb + i * stride;
            for (int64_t h = 0; h < heads; h++) {
                const float *vh = vt + (h0 + h) / group * head_dim, p = scores[h * block_size + i];
                float *oh = out + h * head_dim;
                for (int64_t l = 0; l < lanes; l++) store8(oh + 8 * l, load8(oh + 8 * l) + p * load8(vh + 8 * l));
            }
        }
    }
    for (int64_t h = 0; h < heads && len > 0; h++) {
        const float inv = 1.f / total[h];
        float *oh = out + h * head_dim;
        for (int64_t l = 0; l < lanes; l++) store8(oh + 8 * l, load8(oh + 8 * l) * inv);
    }
}

static int valid_indices(const int32_t *tables, int64_t table_stride, const int32_t *lens, int64_t batch,
                         int64_t num_blocks, int64_t block_size) {
    for (int64_t b = 0; b < batch; b++) {
        if (lens[b] < 0 || lens[b] > table_stride * block_size) return 0;
        for (int64_t block = 0; block * block_size < lens[b]; block++) {
            const int32_t id = tables[b * table_stride + block];
            if (id < 0 || id >= num_blocks) return 0;
        }
    }
    return 1;
}

int semgate_paged_decode_f32(const float *q, const float *k, const float *v, const int32_t *tables,
                             int64_t table_stride, const int32_t *lens, float *out, int64_t batch,
                             int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t num_blocks,
                             int64_t block_size, float scale, int64_t threads) {
    if (!valid_indices(tables, table_stride, lens, batch, num_blocks, block_size)) return -1;
    const Shape shape = {heads, heads / kv_heads, head_dim, block_size, kv_heads * head_dim, scale};
    /* A work item is a sequence (all its heads read each token's keys in one go), or, with
       fewer sequences than threads, one KV head's group of a sequence, so no thread idles. */
    const int64_t splits = batch < threads ? kv_heads : 1, heads_per_item = heads / splits;
    int status = 0;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t item = 0; item < batch * splits; item++) {
        const int64_t b = item / splits, h0 = item % splits * heads_per_item;
        float *scratch = malloc(sizeof(float) * heads_per_item * (block_size + 2));
        if (scratch == NULL) {
            #pragma omp atomic write
            status = -2;
            continue;
        }
        attend(q + b * heads * head_dim, k, v, tables + b * table_stride, lens[b], out + b * heads * head_dim,
               scratch, h0, h0 + heads_per_item, &shape);
        free(scratch);
    }
    return status;
}
