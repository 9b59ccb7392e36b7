import 'reflect-metadata';
import {
  ClassSerializerInterceptor,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  type INestApplication,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { Exclude } from 'class-transformer';
import { Cache, Cached, registerClass, type CacheStore } from '../../lib';
import { RedisStore, TieredStore } from '../../lib/redis';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// A real NestJS application with ClassSerializerInterceptor: a cached DTO must keep its class on every
// hit, from memory and from Redis, or its @Exclude()d field reaches the HTTP client.

class UserDto {
  id!: string;
  name!: string;
  @Exclude()
  passwordHash!: string;

  constructor(fields: Partial<UserDto>) {
    Object.assign(this, fields);
  }
}
registerClass(UserDto);

function appWith(cache: Cache, lookups: string[]): Promise<INestApplication> {
  @Injectable()
  class UsersService {
    @Cached({ cache, ttl: '1m' })
    async find(id: string): Promise<UserDto> {
      lookups.push(id);
      return new UserDto({ id, name: `user ${id}`, passwordHash: `hash-of-${id}` });
    }
  }

  @Controller('users')
  class UsersController {
    constructor(private readonly users: UsersService) {}

    @Get(':id')
    find(@Param('id') id: string): Promise<UserDto> {
      return this.users.find(id);
    }
  }

  @Module({
    controllers: [UsersController],
    providers: [UsersService, { provide: APP_INTERCEPTOR, useClass: ClassSerializerInterceptor }],
  })
  class AppModule {}

  return NestFactory.create(AppModule, { logger: false });
}

/** The response body's fields, as text: `fetch` parses JSON in another realm, so compare what was sent. */
async function get(app: INestApplication, path: string): Promise<string> {
  const response = await fetch(`${await app.getUrl()}${path}`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('a cached DTO behind ClassSerializerInterceptor', () => {
  const prefix = uniquePrefix('nest-dto');
  const opened: { close(): Promise<unknown> }[] = [];
  afterAll(async () => {
    for (const thing of opened.reverse()) await thing.close();
    await cleanUpKeys(prefix);
  });

  async function start(store: CacheStore): Promise<{ app: INestApplication; lookups: string[] }> {
    const cache = new Cache({ store, prefix });
    const lookups: string[] = [];
    const app = await appWith(cache, lookups);
    await app.listen(0, '127.0.0.1');
    opened.push(cache, app);
    return { app, lookups };
  }

  it.each([
    ['RedisStore', () => new RedisStore({ url: testRedisUrl() })],
    ['TieredStore', () => new TieredStore({ redis: new RedisStore({ url: testRedisUrl() }) })],
  ])(
    'never sends the excluded field, on a fill, a hit in this instance, or a hit in another instance (%s)',
    async (_name, makeStore) => {
      const a = await start(makeStore());
      const b = await start(makeStore());
      const id = `${_name}-42`;
      const expected = JSON.stringify({ id, name: `user ${id}` });
      expect(await get(a.app, `/users/${id}`)).toBe(expected);
      expect(await get(a.app, `/users/${id}`)).toBe(expected);
      expect(await get(b.app, `/users/${id}`)).toBe(expected);
      expect(await get(b.app, `/users/${id}`)).toBe(expected);
      expect([...a.lookups, ...b.lookups]).toEqual([id]);
    },
  );
});
