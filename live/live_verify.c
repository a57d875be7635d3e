/* live_verify.c: the verify-and-write thread of a downloading storage. The event loop hands
 * it a piece's received bytes; the thread hashes them and, only when the SHA-1 matches,
 * has the storage write them (its write function), then queues the result and wakes the loop
 * through an eventfd. The loop collects the results and only then tells the engine, so a
 * piece counts as ours only once its bytes are in the files. Jobs run in submission order. */
#define _GNU_SOURCE
#include "live.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct vjob {
    struct vjob *next;
    uint32_t piece, len;
    uint8_t *buf; /* owned; handed back to the loop with the result (for reuse) */
    uint8_t expect[20], digest[20];
    int werr; /* 0, or the write failed (msg) */
    char msg[256];
} vjob;

struct live_verifier {
    live_verify_write_fn write;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vjob *todo, **todo_tail; /* submitted, FIFO */
    vjob *done, **done_tail; /* finished, FIFO */
    uint32_t inflight;       /* submitted and not yet collected */
    bool stop;
    int efd;
};

static void *run(void *p)
{
    live_verifier *v = p;
    pthread_mutex_lock(&v->mu);
    for (;;) {
        while (v->todo == NULL && !v->stop)
            pthread_cond_wait(&v->cv, &v->mu);
        if (v->stop)
            break;
        vjob *j = v->todo;
        if ((v->todo = j->next) == NULL)
            v->todo_tail = &v->todo;
        pthread_mutex_unlock(&v->mu);
        bt_sha1(j->buf, j->len, j->digest);
        if (memcmp(j->digest, j->expect, 20) == 0)
            j->werr = v->write(v->arg, j->piece, j->buf, j->len, j->msg, sizeof(j->msg));
        j->next = NULL;
        pthread_mutex_lock(&v->mu);
        *v->done_tail = j;
        v->done_tail = &j->next;
        uint64_t one = 1;
        ssize_t w = write(v->efd, &one, sizeof(one)); /* only fails when the counter is full */
        (void)w;
    }
    pthread_mutex_unlock(&v->mu);
    return NULL;
}

live_verifier *live_verifier_new(live_verify_write_fn write_fn, void *arg)
{
    live_verifier *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    v->write = write_fn;
    v->arg = arg;
    v->todo_tail = &v->todo;
    v->done_tail = &v->done;
    v->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (v->efd < 0) {
        free(v);
        return NULL;
    }
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    if (pthread_create(&v->thread, NULL, run, v) != 0) {
        pthread_cond_destroy(&v->cv);
        pthread_mutex_destroy(&v->mu);
        close(v->efd);
        free(v);
        return NULL;
    }
    return v;
}

static void free_list(vjob *j)
{
    while (j != NULL) {
        vjob *n = j->next;
        free(j->buf);
        free(j);
        j = n;
    }
}

void live_verifier_del(live_verifier *v)
{
    if (v == NULL)
        return;
    pthread_mutex_lock(&v->mu);
    v->stop = true; /* a job being hashed or written finishes; queued ones are dropped */
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
    pthread_join(v->thread, NULL);
    free_list(v->todo);
    free_list(v->done);
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    close(v->efd);
    free(v);
}

int live_verifier_submit(live_verifier *v, uint32_t piece, uint8_t *buf, uint32_t len,
                         const uint8_t expect[20])
{
    vjob *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return -1;
    j->piece = piece;
    j->len = len;
    j->buf = buf;
    memcpy(j->expect, expect, 20);
    pthread_mutex_lock(&v->mu);
    *v->todo_tail = j;
    v->todo_tail = &j->next;
    v->inflight++;
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
    return 0;
}

int live_verifier_fd(const live_verifier *v)
{
    return v->efd;
}

int live_verifier_collect(live_verifier *v, uint32_t *piece, uint8_t digest[20], uint8_t **buf,
                          char *err, size_t errlen)
{
    uint64_t n;
    ssize_t r = read(v->efd, &n, sizeof(n)); /* resets the wake-up; results are in the list */
    (void)r;
    pthread_mutex_lock(&v->mu);
    vjob *j = v->done;
    if (j != NULL) {
        if ((v->done = j->next) == NULL)
            v->done_tail = &v->done;
        v->inflight--;
    }
    pthread_mutex_unlock(&v->mu);
    if (j == NULL)
        return 0;
    *piece = j->piece;
    *buf = j->buf;
    memcpy(digest, j->digest, 20);
    int rv = 1;
    if (j->werr != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s", j->msg);
        rv = -1;
    }
    free(j);
    return rv;
}

uint32_t live_verifier_inflight(live_verifier *v)
{
    pthread_mutex_lock(&v->mu);
    uint32_t n = v->inflight;
    pthread_mutex_unlock(&v->mu);
    return n;
}
