"""Schemathesis settings for Glint's spec (loaded through SCHEMATHESIS_HOOKS).

Glance's JSON-patch media types carry JSON: schemathesis knows `application/json` and
`*+json`, not these vendor names, so it is told how to write them."""

import json

import schemathesis


@schemathesis.serializer(
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
)
def json_patch(ctx, value):
    return json.dumps(value).encode()
