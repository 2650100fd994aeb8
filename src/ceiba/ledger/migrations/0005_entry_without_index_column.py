"""The entry's index now lives in ``ledger_leaf``; its leaf hash is set when it is written;
nodes keep their log id without a per-row foreign-key check.

A separate migration from 0004, so that PostgreSQL commits 0004's rows (and their deferred
foreign-key checks) before these columns are altered.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0004_leaf_and_pending_tables"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='ledgerentry',
            name='ledger_entry_index_unique',
        ),
        migrations.RemoveConstraint(
            model_name='ledgerentry',
            name='ledger_entry_index_nonneg',
        ),
        migrations.RemoveIndex(
            model_name='ledgerentry',
            name='ledger_entry_pending',
        ),
        migrations.RemoveField(
            model_name='ledgerentry',
            name='index',
        ),
        migrations.RemoveField(
            model_name='ledgerentry',
            name='integrated_at',
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='leaf_hash',
            field=models.BinaryField(max_length=32),
        ),
            migrations.AlterField(
            model_name="node",
            name="log",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="ledger.log",
            ),
        ),
    ]
