/* live_scrape.h: tracker scrapes (`swarmlab live scrape`): HTTP per BEP 48 (the announce URL's
 * last "announce" becomes "scrape") and UDP per BEP 15 (action 2), one torrent per request;
 * seeders (complete), leechers (incomplete) and completed downloads (downloaded). */
#ifndef LIVE_SCRAPE_H
#define LIVE_SCRAPE_H

#include "bt.h"

#include <stddef.h>
#include <stdint.h>

/* Scrapes |url| (http:// or udp://) for |ih|, waiting at most |timeout_s| per request (UDP:
 * two tries). |bind| (numeric, or NULL) is the local address. 0 with |out|, or -1 with a
 * message in |msg| (unsupported scheme, no scrape URL, time-out, tracker error, bad reply). */
int live_scrape_url(const char *url, const uint8_t ih[20], const char *bind, int timeout_s,
                    bt_scrape_entry *out, char *msg, size_t mlen);

/* The UDP part (live_scrape_udp.c): connect, then scrape, each tried twice. */
int live_scrape_udp(const char *url, const uint8_t ih[20], const char *bind, int timeout_s,
                    bt_scrape_entry *out, char *msg, size_t mlen);

#endif
