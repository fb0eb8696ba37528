"""The callback shapes, described for the published OpenAPI schema.

The endpoint checks payloads with `campaigns.telesign.callbacks.parse_callback`
(which accepts every format Telesign uses); these serializers document them:
delivery and read reports, and the replies people send back on Viber and by
SMS.
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


class ViberReplyContentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, help_text="What the person wrote.")
    original_reference_id = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The reference id of the message they replied to.",
    )


class ReplyStatusSerializer(serializers.Serializer):
    code = serializers.IntegerField(
        required=False, help_text="1500: a message from the person."
    )
    updated_on = serializers.CharField(required=False, max_length=64)


class ViberReplySerializer(serializers.Serializer):
    """A reply sent on Viber to one of our messages."""

    reference_id = serializers.CharField(max_length=64)
    phone_number = serializers.RegexField(
        r"^\+?[0-9]{7,15}$", help_text="The sender's number, digits only."
    )
    content = ViberReplyContentSerializer()
    status = ReplyStatusSerializer(required=False)


class SmsUserResponseSerializer(serializers.Serializer):
    phone_number = serializers.RegexField(
        r"^\+?[0-9]{7,15}$", help_text="The sender's number, digits only."
    )
    mo_message = serializers.CharField(
        max_length=2000, help_text="What the person wrote, e.g. STOP."
    )
    keyword = serializers.CharField(required=False, max_length=100)
    action = serializers.CharField(required=False, max_length=100)
    sender_id = serializers.CharField(required=False, max_length=64)
    iso_country_code = serializers.CharField(required=False, max_length=2)


class SmsReplySerializer(serializers.Serializer):
    """A reply sent by SMS (an opt-out keyword opts the contact out)."""

    reference_id = serializers.CharField(max_length=64)
    sub_resource = serializers.ChoiceField(choices=["mo_sms"])
    submit_timestamp = serializers.CharField(required=False, max_length=64)
    user_response = SmsUserResponseSerializer()


class CallbackAnswerSerializer(serializers.Serializer):
    stored = serializers.BooleanField()
    applied = serializers.BooleanField(required=False)
    matched = serializers.BooleanField(required=False)


class CallbackErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)
