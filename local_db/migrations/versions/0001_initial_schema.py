"""initial schema: catalogue, applicants, applications, blobs, outbox, events, users, settings

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:35:10.918943
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('applicant',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('id_lookup', sa.String(length=64), nullable=False),
    sa.Column('identity', sa.LargeBinary(), nullable=False),
    sa.Column('card_type', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applicant')),
    sa.UniqueConstraint('id_lookup', name=op.f('uq_applicant_id_lookup'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_subject_id'), ['subject_id'], unique=False)

    op.create_table('blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('stored_size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('retain_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blob'))
    )
    op.create_table('catalog_meta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('region', sa.String(length=200), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_meta'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'in_flight', 'done', 'quarantined')", name=op.f('ck_outbox_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_ref_id'), ['ref_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_state'), ['state'], unique=False)

    op.create_table('role',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_role'))
    )
    op.create_table('service_item',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('item_type', sa.String(length=20), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False),
    sa.Column('service_object', sa.JSON(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('statutory_limit_days', sa.Integer(), nullable=False),
    sa.Column('promised_limit_days', sa.Integer(), nullable=False),
    sa.Column('case_type', sa.String(length=10), nullable=False),
    sa.Column('review_type', sa.String(length=10), nullable=False),
    sa.Column('fee', sa.JSON(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('visit_reason', sa.Text(), nullable=False),
    sa.Column('online_depth', sa.String(length=2), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('delivery', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('process_steps', sa.JSON(), nullable=False),
    sa.Column('life_events', sa.JSON(), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('consult_phone', sa.String(length=32), nullable=True),
    sa.Column('complaint_phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('hours', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('catalog_version', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_service_item'))
    )
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_item_name'), ['name'], unique=False)

    op.create_table('setting',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )
    op.create_table('tracking_sequence',
    sa.Column('station_code', sa.String(length=20), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('station_code', 'day', name=op.f('pk_tracking_sequence'))
    )
    op.create_table('item_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['item_code'], ['service_item.code'], name=op.f('fk_item_alias_item_code_service_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_alias')),
    sa.UniqueConstraint('item_code', 'alias', name=op.f('uq_item_alias_item_code_alias'))
    )
    with op.batch_alter_table('item_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_alias_item_code'), ['item_code'], unique=False)

    op.create_table('item_form_field',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=48), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('prefill', sa.String(length=20), nullable=True),
    sa.Column('help', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_code'], ['service_item.code'], name=op.f('fk_item_form_field_item_code_service_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_form_field')),
    sa.UniqueConstraint('item_code', 'key', name=op.f('uq_item_form_field_item_code_key'))
    )
    with op.batch_alter_table('item_form_field', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_form_field_item_code'), ['item_code'], unique=False)

    op.create_table('item_material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('form', sa.String(length=10), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('credibility', sa.String(length=1), nullable=False),
    sa.Column('elicence_type', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_code'], ['service_item.code'], name=op.f('fk_item_material_item_code_service_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_material')),
    sa.UniqueConstraint('item_code', 'code', name=op.f('uq_item_material_item_code_code'))
    )
    with op.batch_alter_table('item_material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_material_item_code'), ['item_code'], unique=False)

    role = sa.table("role", sa.column("name", sa.String), sa.column("title", sa.String))
    op.bulk_insert(
        role,
        [
            {"name": "villager", "title": "办事群众"},
            {"name": "agent", "title": "代办员"},
            {"name": "technician", "title": "技术人员"},
        ],
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['role'], ['role.name'], name=op.f('fk_user_account_role_role'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('application',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tracking_no', sa.String(length=40), nullable=False),
    sa.Column('station_code', sa.String(length=20), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('catalog_version', sa.String(length=40), nullable=False),
    sa.Column('applicant_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('agent_user_id', sa.Integer(), nullable=True),
    sa.Column('form_data', sa.LargeBinary(), nullable=False),
    sa.Column('deferred_materials', sa.Boolean(), nullable=False),
    sa.Column('delivery_method', sa.String(length=20), nullable=False),
    sa.Column('promised_date', sa.Date(), nullable=True),
    sa.Column('case_no', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_user_id'], ['user_account.id'], name=op.f('fk_application_agent_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['applicant_id'], ['applicant.id'], name=op.f('fk_application_applicant_id_applicant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['item_code'], ['service_item.code'], name=op.f('fk_application_item_code_service_item'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application')),
    sa.UniqueConstraint('tracking_no', name=op.f('uq_application_tracking_no'))
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_item_code'), ['item_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_state'), ['state'], unique=False)

    op.create_table('application_material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('material_code', sa.String(length=64), nullable=False),
    sa.Column('material_name', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('elicence_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("source IN ('scan', 'file', 'elicence', 'reuse', 'deferred')", name=op.f('ck_application_material_source')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_material_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blob_sha256'], ['blob.sha256'], name=op.f('fk_application_material_blob_sha256_blob'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_material')),
    sa.UniqueConstraint('application_id', 'material_code', name=op.f('uq_application_material_application_id_material_code'))
    )
    with op.batch_alter_table('application_material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_material_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_material_blob_sha256'), ['blob_sha256'], unique=False)

    op.create_table('evaluation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('comment', sa.LargeBinary(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('synced_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_evaluation_level')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_evaluation_application_id_application'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation'))
    )
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_application_id'), ['application_id'], unique=False)

    op.create_table('status_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_status_event_application_id_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_event'))
    )
    with op.batch_alter_table('status_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_event_application_id'), ['application_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_event_application_id'))

    op.drop_table('status_event')
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_application_id'))

    op.drop_table('evaluation')
    with op.batch_alter_table('application_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_material_blob_sha256'))
        batch_op.drop_index(batch_op.f('ix_application_material_application_id'))

    op.drop_table('application_material')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_state'))
        batch_op.drop_index(batch_op.f('ix_application_item_code'))
        batch_op.drop_index(batch_op.f('ix_application_applicant_id'))

    op.drop_table('application')
    op.drop_table('user_account')
    with op.batch_alter_table('item_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_material_item_code'))

    op.drop_table('item_material')
    with op.batch_alter_table('item_form_field', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_form_field_item_code'))

    op.drop_table('item_form_field')
    with op.batch_alter_table('item_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_alias_item_code'))

    op.drop_table('item_alias')
    op.drop_table('tracking_sequence')
    op.drop_table('setting')
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_item_name'))

    op.drop_table('service_item')
    op.drop_table('role')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_state'))
        batch_op.drop_index(batch_op.f('ix_outbox_ref_id'))

    op.drop_table('outbox')
    op.drop_table('catalog_meta')
    op.drop_table('blob')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_subject_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))

    op.drop_table('audit_event')
    op.drop_table('applicant')
