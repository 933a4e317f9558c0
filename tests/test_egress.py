"""The webhook egress rule: internal addresses refused unless allow-listed, and the address checked is
the address called (a DNS answer that changes after the check cannot point a webhook inward)."""

from __future__ import annotations

from engine.delivery.egress import Destination, destination


class answers:
    """A resolver answering each lookup with the next of `responses`: DNS rebinding, on demand."""

    def __init__(self, *responses: list[str]) -> None:
        self.pending = list(responses)
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.pending.pop(0)


async def test_the_checked_address_is_the_one_called() -> None:
    rebinding = answers(["8.8.8.8"], ["169.254.169.254"])  # public when checked, the metadata service after
    target = await destination("https://hooks.example.com/crm?x=1", ["*"], rebinding)
    assert target == Destination(
        "https://8.8.8.8/crm?x=1", {"Host": "hooks.example.com"}, {"sni_hostname": "hooks.example.com"}
    )
    assert rebinding.asked == [("hooks.example.com", 443)]  # resolved once: the call does not ask again


async def test_ports_and_ipv6_addresses_are_kept_in_the_pinned_url() -> None:
    target = await destination("http://hooks.example.com:8080/a", ["*"], answers(["2001:4860:4860::8888"]))
    assert target == Destination("http://[2001:4860:4860::8888]:8080/a", {"Host": "hooks.example.com:8080"})


async def test_an_internal_address_is_refused_and_an_allow_listed_name_is_trusted() -> None:
    refused = await destination("http://crm.internal/hook", ["*"], answers(["10.0.0.7"]))
    assert (
        refused == "host 'crm.internal' resolves to an internal address (10.0.0.7); allow-list it to call it"
    )
    trusted = await destination("http://crm.internal/hook", ["*", "crm.internal"], answers())
    assert trusted == Destination("http://crm.internal/hook")
    assert await destination("ftp://x/y", ["*"], answers()) == "'ftp://x/y' is not an http(s) URL"
