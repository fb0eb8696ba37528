"""Telesign's documented limits on an omnichannel request, defined once.

The client refuses a request outside them before sending it, the local
sandbox answers one with Telesign's codes, and the Campaign model validates
and constrains its fallback time with them. This module imports nothing, so
`campaigns.models` can use it without depending on the rest of the package.
"""

# channels[].fallback_time, in seconds: how long Telesign waits on a channel
# before it moves on to the next one.
FALLBACK_TIME_MIN = 30
FALLBACK_TIME_MAX = 3600
# What Telesign waits when a channel names no fallback_time.
FALLBACK_TIME_DEFAULT = 300

# The whole request body; more is refused with 3116.
MAX_PAYLOAD_BYTES = 10 * 1024
# external_id: ASCII only, at most this many characters; otherwise 3103.
MAX_EXTERNAL_ID_LENGTH = 100
