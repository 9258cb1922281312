from django.db import migrations

from mita.core.db import fill_factor

# Migration 0007 kept a fifth of each meter-state page free so that a state's update (a new reading: last index,
# date, history; no indexed column) stays on its page as a heap-only tuple and writes no index entry. But readings
# arrive in batches that move every state of a page in one transaction, and the space a row's old version holds is
# freed only after that transaction: a fifth left room for about one row in five (22% of a 100,000-row import's
# updates were HOT). Half of each page free gives every row of the page room for a new version of its size (84% of the
# benchmark's updates HOT, where histories grow; the update of 100,000 same-size states took 190-250 ms instead of
# 630-790 on the server). The table takes about twice the pages; pages written before keep their fill until rewritten
# (VACUUM FULL), new and updated rows get the room. PostgreSQL only (mita.core.db.fill_factor).


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0008_indexes_used"),
    ]

    operations = [fill_factor("metering_meterstate", 50, back=80)]
