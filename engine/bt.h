/* bt.h: the public interface of libswarm, the sans-IO BitTorrent engine. This is the only
 * header sim/, live/ and cli/ include. The engine uses only libc and libcrypto; it never opens
 * a socket, reads a clock or calls rand(). */
#ifndef BT_H
#define BT_H

#include "bt_bencode.h"
#include "bt_choker.h"
#include "bt_client.h"
#include "bt_metainfo.h"
#include "bt_proto.h"
#include "bt_tracker.h"
#include "bt_types.h"

#endif
