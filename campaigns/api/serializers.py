"""The callback shapes, described for the published OpenAPI schema.

The endpoint checks payloads with `campaigns.telesign.callbacks.parse_callback`
(which accepts every format Telesign uses); these serializers document them.
"""

from rest_framework import serializers


class CallbackStatusSerializer(serializers.Serializer):
    code = serializers.IntegerField(help_text="Telesign status code, e.g. 3000.")
    description = serializers.CharField(required=False)
    last_channel = serializers.CharField(required=False, help_text="viber or sms")
    updated_on = serializers.CharField(
        required=False, help_text="e.g. 2020-05-04 22:07:01:226 (UTC)"
    )


class ChannelEntrySerializer(serializers.Serializer):
    code = serializers.IntegerField(required=False)
    description = serializers.CharField(required=False, max_length=500)
    reference_id = serializers.CharField(required=False, max_length=64)
    updated_on = serializers.CharField(required=False, max_length=64)


class DeliveryCallbackSerializer(serializers.Serializer):
    reference_id = serializers.CharField(max_length=64)
    external_id = serializers.CharField(required=False, allow_null=True, max_length=100)
    status = CallbackStatusSerializer()
    channel_status = serializers.ListField(
        child=serializers.DictField(child=ChannelEntrySerializer()),
        required=False,
        max_length=10,
        help_text='One object per channel tried, e.g. [{"viber": {"code": 3056, '
        '"description": "...", "reference_id": "...", "updated_on": "..."}}]',
    )


class CallbackAnswerSerializer(serializers.Serializer):
    stored = serializers.BooleanField()
    applied = serializers.BooleanField(required=False)
    matched = serializers.BooleanField(required=False)


class CallbackErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)
