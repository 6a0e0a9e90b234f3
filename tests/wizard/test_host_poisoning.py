"""A request's Host header never reaches the permanent link another visitor copies."""

import pytest
from django.core.cache import caches

from tests.wizard.test_views import walk


@pytest.mark.usefixtures("wizard_site")
def test_a_poisoned_host_does_not_change_the_permalink_of_later_visitors(client, settings):
    settings.KB_ALLOWED_PORTS = {"testserver": {"*"}}  # the port passed, as it did before issue 21
    answers = {"symptom": "agent", "connect": "can", "service": "stopped"}
    url, _page = walk(client, answers)
    caches["default"].clear()  # the poisoned request is the first to render the page
    poisoned = client.get(url, HTTP_HOST="testserver:6666").content.decode()
    later = client.get(url).content.decode()
    for page in (poisoned, later):
        assert "testserver:6666" not in page
        assert f'value="http://testserver{url}"' in page.replace("&amp;", "&")
