import 'reflect-metadata';
import {
  Column,
  DataSource,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
} from 'typeorm';
import { randomUUID } from 'node:crypto';
import { servicePrincipal, userPrincipal } from '../../../../test/support/principals';
import { createTestDatabase } from '../../../../test/support/test-infra';
import { accessibleBy } from './accessible-by';
import { buildAbility, definePolicy, type AppAbility } from './policy';

@Entity({ name: 'accounts' })
class Account {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') region!: string;
  /** An account's own owner: a relation named like Doc's, on another entity. */
  @Column({ name: 'owner_id', type: 'uuid', nullable: true }) ownerId!: string | null;
  @ManyToOne(() => Account)
  @JoinColumn({ name: 'owner_id' })
  owner!: Account | null;
}

@Entity({ name: 'docs' })
class Doc {
  @PrimaryColumn('int') id!: number;
  @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  @Column('text') status!: string;
  @Column('text') title!: string;
  @Column('text', { array: true, default: () => "'{}'" }) tags!: string[];
  @Column('int', { nullable: true }) priority!: number | null;
  @ManyToOne(() => Account)
  @JoinColumn({ name: 'owner_id' })
  owner!: Account;
  @Column({ name: 'reviewer_id', type: 'uuid', nullable: true }) reviewerId!: string | null;
  @ManyToOne(() => Account)
  @JoinColumn({ name: 'reviewer_id' })
  reviewer!: Account | null;
  @OneToMany(() => Label, (label) => label.doc)
  labels!: Label[];
}

@Entity({ name: 'labels' })
class Label {
  @PrimaryColumn('int') id!: number;
  @Column({ name: 'doc_id', type: 'int' }) docId!: number;
  @Column('text') name!: string;
  @ManyToOne(() => Doc, (doc) => doc.labels)
  @JoinColumn({ name: 'doc_id' })
  doc!: Doc;
}

/** Nullable columns, an array that may hold NULL, and an optional relation. */
@Entity({ name: 'notes' })
class Note {
  @PrimaryColumn('int') id!: number;
  @Column({ type: 'text', nullable: true }) code!: string | null;
  @Column('text', { array: true, nullable: true }) tags!: (string | null)[] | null;
  @Column({ name: 'reviewer_id', type: 'uuid', nullable: true }) reviewerId!: string | null;
  @ManyToOne(() => Account)
  @JoinColumn({ name: 'reviewer_id' })
  reviewer!: Account | null;
}

const DocsPolicy = definePolicy({
  name: 'docs',
  roles: {
    customer: ({ can, cannot }, me) => {
      can('read', 'Doc', { ownerId: me.id });
      can('read', 'Doc', { status: 'published' });
      can('read', 'Doc', { tags: 'public', priority: { $gte: 5 } });
      cannot('read', 'Doc', { status: 'deleted' });
    },
    support: ({ can }, me) => can('read', 'Doc', { 'owner.region': me.region }),
    admin: ({ can }) => can('manage', 'Doc'),
  },
});

const user = (id: string, roles: ('customer' | 'support' | 'admin')[], region = 'eu') =>
  userPrincipal({ id, roles, region });

let database: { url: string; drop(): Promise<void> };
let dataSource: DataSource;
let docs: Doc[];
let notes: Note[];
const alice = randomUUID();
const bob = randomUUID();

/** What CASL itself decides, row by row: the SQL must select exactly these. */
function expectedIds(ability: AppAbility): number[] {
  return docs
    .filter((doc) => ability.can('read', { ...doc, __caslSubjectType__: 'Doc' } as never))
    .map((doc) => doc.id)
    .sort((a, b) => a - b);
}

async function sqlIds(ability: AppAbility, where?: (qb: ReturnType<typeof query>) => void) {
  const qb = query();
  where?.(qb);
  const rows = await accessibleBy(qb, ability, 'read', 'Doc').orderBy('doc.id').getMany();
  return rows.map((row) => row.id);
}

const query = () => dataSource.getRepository(Doc).createQueryBuilder('doc');

beforeAll(async () => {
  database = await createTestDatabase('casl_sql');
  dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    entities: [Account, Doc, Label, Note],
    synchronize: true,
  });
  await dataSource.initialize();
  await dataSource.getRepository(Account).insert([
    { id: alice, region: 'eu' },
    { id: bob, region: 'us' },
  ]);
  docs = [
    { id: 1, ownerId: alice, status: 'draft', title: 'a1', tags: [], priority: null },
    { id: 2, ownerId: alice, status: 'deleted', title: 'a2', tags: [], priority: 1 },
    { id: 3, ownerId: bob, status: 'draft', title: 'b1', tags: ['public'], priority: 1 },
    { id: 4, ownerId: bob, status: 'published', title: 'b2', tags: [], priority: null },
    { id: 5, ownerId: bob, status: 'deleted', title: 'b3', tags: [], priority: 9 },
    { id: 6, ownerId: bob, status: 'draft', title: 'b4', tags: ['x', 'public'], priority: 7 },
    { id: 7, ownerId: bob, status: 'draft', title: 'b5', tags: [], priority: 2 },
  ] as Doc[];
  await dataSource.getRepository(Doc).insert(docs);
  notes = [
    { id: 1, code: '10', tags: ['a', null], reviewerId: alice },
    { id: 2, code: null, tags: ['b'], reviewerId: null },
    { id: 3, code: '9', tags: null, reviewerId: bob },
    { id: 4, code: 'x', tags: [], reviewerId: alice },
  ] as Note[];
  await dataSource.getRepository(Note).insert(notes);
});

afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

describe('accessibleBy (CASL conditions as SQL on PostgreSQL)', () => {
  it('selects exactly the rows CASL allows: ownership, state, array contains, comparison, cannot', async () => {
    const ability = buildAbility([DocsPolicy], user(alice, ['customer']));
    expect(expectedIds(ability)).toEqual([1, 4, 6]);
    expect(await sqlIds(ability)).toEqual([1, 4, 6]);
  });

  it('filters in SQL, with bound parameters, not in memory', () => {
    const ability = buildAbility([DocsPolicy], user(alice, ['customer']));
    const qb = accessibleBy(query(), ability, 'read', 'Doc');
    const [sql, parameters] = qb.getQueryAndParameters();
    expect(sql).toMatch(/WHERE .*"doc"\."owner_id" = \$\d+/);
    expect(sql).not.toContain(alice);
    expect(parameters).toContain(alice);
  });

  it('keeps an OR in the existing WHERE from escaping the filter', async () => {
    const ability = buildAbility([DocsPolicy], user(alice, ['customer']));
    const ids = await sqlIds(ability, (qb) =>
      qb.where('doc.title = :x OR doc.title = :y', { x: 'b1', y: 'a1' }),
    );
    expect(ids).toEqual([1]);
  });

  it('filters on a joined relation (support sees their region)', async () => {
    const ability = buildAbility([DocsPolicy], user(randomUUID(), ['support'], 'eu'));
    const rows = await accessibleBy(query().innerJoin('doc.owner', 'owner'), ability, 'read', 'Doc')
      .orderBy('doc.id')
      .getMany();
    expect(rows.map((row) => row.id)).toEqual([1, 2]);
  });

  it('refuses a rule on a relation joined only under another entity (team.owner)', async () => {
    const ability = buildAbility([DocsPolicy], user(randomUUID(), ['support'], 'us'));
    const qb = query().leftJoin('doc.reviewer', 'reviewer').leftJoin('reviewer.owner', 'owner');
    // Before: the rule on doc's owner was checked against the reviewer's owner.
    expect(() => accessibleBy(qb, ability, 'read', 'Doc')).toThrow(/join the relation owner/);
  });

  it('refuses a rule on a to-many relation, which SQL would check one joined row at a time', () => {
    const policy = definePolicy({
      name: 'labels',
      roles: {
        customer: ({ can, cannot }) => {
          can('read', 'Doc');
          cannot('read', 'Doc', { 'labels.name': 'secret' });
        },
      },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    // Before: a doc labelled both 'secret' and 'x' came back through its 'x' row.
    expect(() =>
      accessibleBy(query().leftJoin('doc.labels', 'labels'), ability, 'read', 'Doc'),
    ).toThrow(/to-many/);
  });

  it.each([
    ['$in', { priority: { $in: [null, 1] } }],
    ['$nin', { priority: { $nin: [null, 1] } }],
    ['$in without null', { priority: { $in: [1, 9] } }],
    ['$nin without null', { priority: { $nin: [1, 9] } }],
  ])('selects what CASL selects for %s with a NULL column', async (_case, conditions) => {
    const policy = definePolicy({
      name: 'nulls',
      roles: { customer: ({ can }) => can('read', 'Doc', conditions) },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    expect(await sqlIds(ability)).toEqual(expectedIds(ability));
  });

  it.each([
    ['$in on an array column', { can: { tags: { $in: ['public', 'y'] } } }],
    ['$nin on an array column', { can: { tags: { $nin: ['public'] } } }],
    ['cannot, equality on a NULL column', { cannot: { priority: 1 } }],
    ['cannot, $in on a NULL column', { cannot: { priority: { $in: [1, 9] } } }],
    ['cannot, two fields', { cannot: { ownerId: bob, priority: 1 } }],
    ['cannot, array contains', { cannot: { tags: 'public' } }],
    ['cannot, $in on an array column', { cannot: { tags: { $in: ['x'] } } }],
  ])('selects what CASL selects: %s', async (_case, rule: { can?: object; cannot?: object }) => {
    const policy = definePolicy({
      name: 'agree',
      roles: {
        customer: ({ can, cannot }) => {
          can('read', 'Doc', rule.can);
          if (rule.cannot) cannot('read', 'Doc', rule.cannot);
        },
      },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    const ids = await sqlIds(ability);
    expect(ids).toEqual(expectedIds(ability));
    // Each case separates rows: the filter is not all or nothing.
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(docs.length);
  });

  it('keeps rows without a joined row under a cannot on the relation (CASL: the field is absent)', async () => {
    const policy = definePolicy({
      name: 'reviewer',
      roles: {
        customer: ({ can, cannot }) => {
          can('read', 'Doc');
          cannot('read', 'Doc', { 'reviewer.region': 'us' });
        },
      },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    expect(expectedIds(ability)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await sqlIds(ability, (qb) => qb.leftJoin('doc.reviewer', 'reviewer'))).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
  });

  it('hides a NULL column under a cannot with <, whose CASL answer is JavaScript coercion', async () => {
    const policy = definePolicy({
      name: 'relational',
      roles: {
        customer: ({ can, cannot }) => {
          can('read', 'Doc');
          cannot('read', 'Doc', { priority: { $lt: 5 } });
        },
      },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    // Docs 1 and 4 have no priority: the safe side is to count them as matching the cannot.
    expect(await sqlIds(ability)).toEqual([5, 6]);
  });

  it.each([
    ['an array value', { tags: ['public'] }],
    ['$ne with an array value', { tags: { $ne: ['public'] } }],
    ['$in with null on an array column', { tags: { $in: [null, 'x'] } }],
  ])('refuses %s, which SQL would decide differently from CASL', (_case, conditions: object) => {
    const policy = definePolicy({
      name: 'arrays',
      roles: { customer: ({ can }) => can('read', 'Doc', conditions) },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    expect(() => accessibleBy(query(), ability, 'read', 'Doc')).toThrow(/array|null/);
  });

  it('refuses $exists, whose meaning for a NULL column differs between CASL and SQL', () => {
    const policy = definePolicy({
      name: 'exists',
      roles: { customer: ({ can }) => can('read', 'Doc', { priority: { $exists: false } }) },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    expect(() => accessibleBy(query(), ability, 'read', 'Doc')).toThrow(/not supported/);
  });

  it('refuses a condition on a relation that is not joined', async () => {
    const ability = buildAbility([DocsPolicy], user(randomUUID(), ['support'], 'eu'));
    expect(() => accessibleBy(query(), ability, 'read', 'Doc')).toThrow(/join the relation owner/);
  });

  it('paginates over the permitted rows only (keyset)', async () => {
    const ability = buildAbility([DocsPolicy], user(alice, ['customer']));
    const page = (after: number) =>
      accessibleBy(query().where('doc.id > :after', { after }), ability, 'read', 'Doc')
        .orderBy('doc.id')
        .take(2)
        .getMany();
    const first = await page(0);
    const second = await page(first.at(-1)!.id);
    expect(first.map((d) => d.id)).toEqual([1, 4]);
    expect(second.map((d) => d.id)).toEqual([6]);
    expect(await accessibleBy(query(), ability, 'read', 'Doc').getCount()).toBe(3);
  });

  it('selects nothing for a caller with no rule', async () => {
    expect(await sqlIds(buildAbility([DocsPolicy], servicePrincipal('x')))).toEqual([]);
  });

  it('selects everything for an unconditional rule', async () => {
    expect(await sqlIds(buildAbility([DocsPolicy], user(alice, ['admin'])))).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
  });

  it('refuses an operator it cannot translate instead of dropping the rule', () => {
    const policy = definePolicy({
      name: 'regex',
      roles: { customer: ({ can }) => can('read', 'Doc', { title: { $regex: '^a' } }) },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    expect(() => accessibleBy(query(), ability, 'read', 'Doc')).toThrow(/not supported/);
  });

  it('refuses where() and orWhere() after it, which would replace or escape its filter', async () => {
    const ability = buildAbility([DocsPolicy], user(alice, ['customer']));
    const filtered = () => accessibleBy(query(), ability, 'read', 'Doc');
    expect(() => filtered().orWhere('doc.id = 3')).toThrow(/before calling accessibleBy/);
    expect(() => filtered().where('doc.id > 0')).toThrow(/before calling accessibleBy/);
    expect(() => filtered().andWhere('doc.id = 3 OR doc.id = 5')).toThrow(
      /before calling accessibleBy/,
    );
    // Ordering, paging and counting still work on it.
    expect(await filtered().orderBy('doc.id').take(2).getCount()).toBe(3);
  });

  it.each([
    [
      'a number on a text column',
      { title: 10 },
      /title holds string values; the rule gives a number/,
    ],
    ['a string on an int column', { priority: '5' }, /priority holds number values/],
    ['a string in $in on an int column', { priority: { $in: [1, '9'] } }, /priority holds number/],
    ['a string in $lt on an int column', { priority: { $lt: '5' } }, /priority holds number/],
  ])(
    'refuses %s, which PostgreSQL would cast and CASL never matches',
    (_case, conditions: object, error) => {
      const policy = definePolicy({
        name: 'types',
        roles: { customer: ({ can }) => can('read', 'Doc', conditions) },
      });
      const ability = buildAbility([policy], user(alice, ['customer']));
      expect(() => accessibleBy(query(), ability, 'read', 'Doc')).toThrow(error);
    },
  );

  describe('null, as CASL sees it: a NULL element of an array, a missing joined row', () => {
    const accounts = () =>
      new Map<string, object>([
        [alice, { id: alice, region: 'eu', ownerId: null }],
        [bob, { id: bob, region: 'us', ownerId: null }],
      ]);
    /** CASL on each note as the query loads it: its reviewer joined, or null. */
    function caslIds(ability: AppAbility): number[] {
      const byId = accounts();
      return notes
        .filter((note) =>
          ability.can('read', {
            ...note,
            reviewer: note.reviewerId ? byId.get(note.reviewerId) : null,
            __caslSubjectType__: 'Note',
          } as never),
        )
        .map((note) => note.id);
    }
    async function noteIds(ability: AppAbility) {
      const qb = dataSource
        .getRepository(Note)
        .createQueryBuilder('note')
        .leftJoin('note.reviewer', 'reviewer');
      const rows = await accessibleBy(qb, ability, 'read', 'Note').orderBy('note.id').getMany();
      return rows.map((row) => row.id);
    }

    it.each([
      ['tags: null', { tags: null }],
      ['tags: $ne null', { tags: { $ne: null } }],
      ['reviewer.ownerId: null', { 'reviewer.ownerId': null }],
      ['reviewer.ownerId: $ne null', { 'reviewer.ownerId': { $ne: null } }],
      ['reviewer.ownerId: $in [null]', { 'reviewer.ownerId': { $in: [null] } }],
      ['reviewer.ownerId: $nin [null]', { 'reviewer.ownerId': { $nin: [null] } }],
      ['reviewer.region: $in [null, eu]', { 'reviewer.region': { $in: [null, 'eu'] } }],
      ['reviewer.region: $nin [null, eu]', { 'reviewer.region': { $nin: [null, 'eu'] } }],
      ['reviewer.region: $nin [eu]', { 'reviewer.region': { $nin: ['eu'] } }],
      ['code: $in [null, 9]', { code: { $in: [null, '9'] } }],
    ])(
      'selects what CASL selects for %s, as a can and as a cannot',
      async (_case, conditions: object) => {
        for (const form of ['can', 'cannot'] as const) {
          const policy = definePolicy({
            name: `nulls-${form}`,
            roles: {
              customer: ({ can, cannot }) => {
                if (form === 'can') return can('read', 'Note', conditions);
                can('read', 'Note');
                cannot('read', 'Note', conditions);
              },
            },
          });
          const ability = buildAbility([policy], user(alice, ['customer']));
          expect({ form, ids: await noteIds(ability) }).toEqual({ form, ids: caslIds(ability) });
        }
      },
    );
  });

  it('refuses a condition on an unknown field', () => {
    const policy = definePolicy({
      name: 'unknown',
      roles: { customer: ({ can }) => can('read', 'Doc', { secret: 1 }) },
    });
    const ability = buildAbility([policy], user(alice, ['customer']));
    expect(() => accessibleBy(query(), ability, 'read', 'Doc')).toThrow(/not a column/);
  });
});
