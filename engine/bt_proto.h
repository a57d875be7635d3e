/* bt_proto.h: the protocol codecs real swarms need beyond BEP 3 (one include for bt.h): MSE/PE
 * encryption, magnet URIs and ut_metadata (BEP 9), ut_pex (BEP 11). All sans-IO. */
#ifndef BT_PROTO_H
#define BT_PROTO_H

#include "bt_magnet.h"
#include "bt_metadata.h"
#include "bt_mse.h"
#include "bt_pex.h"

#endif
