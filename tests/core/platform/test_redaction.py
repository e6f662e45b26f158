from mb_core.platform.redaction import MAX_DETAIL, redact


def test_personal_data_and_keys_are_replaced_but_build_ids_stay():
    text = ("reviewer ana.lopez@example.com, phone +44 20 7946 0958, card 4111 1111 1111 1111, "
            "key mbk_abcdefghijklmnop, build b20250314-093015-7f3a2c91")
    assert redact(text) == ("reviewer [email], phone [phone], card [card], key [api-key], "
                            "build b20250314-093015-7f3a2c91")


def test_detail_is_bounded():
    assert len(redact("x" * 10_000)) == MAX_DETAIL
