import 'reflect-metadata';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Param,
  SetMetadata,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { ApiOperation, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { tap, type Observable } from 'rxjs';
import { Cache, Cached, CircuitBreaker, Concurrency, RateLimited, Retry, Timeout } from '../../lib';

// A real NestJS 11 application over HTTP: cachet's decorators above or below Nest's on a controller handler.
// Under experimentalDecorators, a cachet wrapper used to replace the handler without the metadata @Get() had
// written on it, and the route vanished (404). Nest's decorators are legacy decorators only, so this suite runs in
// the legacy dialect; spec/decorate/framework-metadata.decorators.spec.ts covers both dialects.

const ROLES = 'roles';

@Injectable()
class RolesGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.get<string[] | undefined>(ROLES, context.getHandler());
    if (roles === undefined) return true;
    const role = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-role'];
    return role !== undefined && roles.includes(role);
  }
}

@Injectable()
class UpperPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return value.toUpperCase();
  }
}

@Injectable()
class StampInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    return next.handle().pipe(tap(() => response.setHeader('x-stamp', 'intercepted')));
  }
}

const cache = new Cache({ prefix: 'nest-order' });
const calls: string[] = [];

@Controller('items')
class ItemsController {
  @Cached({ cache, ttl: '1m' })
  @Get('above/:id')
  async above(@Param('id') id: string): Promise<{ id: string }> {
    calls.push(`above ${id}`);
    return { id };
  }

  @Get('below/:id')
  @Cached({ cache, ttl: '1m' })
  async below(@Param('id') id: string): Promise<{ id: string }> {
    calls.push(`below ${id}`);
    return { id };
  }

  @Cached({ cache, ttl: '1m' })
  @Get('guarded')
  @UseGuards(RolesGuard)
  @Retry({ attempts: 2 })
  @SetMetadata(ROLES, ['admin'])
  async guarded(): Promise<string> {
    calls.push('guarded');
    return 'secret';
  }

  @Timeout('5s')
  @UsePipes(UpperPipe)
  @Get('piped/:word')
  @CircuitBreaker({ threshold: 5 })
  async piped(@Param('word') word: string): Promise<string> {
    return word;
  }

  @Cached({ cache, ttl: '1m' })
  @ApiOperation({ summary: 'Documented above' })
  @Get('documented/above')
  async documentedAbove(): Promise<string> {
    return 'above';
  }

  @ApiOperation({ summary: 'Documented below' })
  @Get('documented/below')
  @Cached({ cache, ttl: '1m' })
  async documentedBelow(): Promise<string> {
    return 'below';
  }

  @RateLimited({ limit: 100, interval: '1s' })
  @UseInterceptors(StampInterceptor)
  @Concurrency({ max: 2 })
  @Get('stamped')
  async stamped(): Promise<string> {
    return 'stamped';
  }
}

@Module({ controllers: [ItemsController], providers: [RolesGuard] })
class AppModule {}

describe('cachet decorators in any order on a NestJS controller', () => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    await cache.close();
  });

  it.each(['above', 'below'])('serves the route with @Cached %s @Get(), and caches it', async (where) => {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${base}/items/${where}/7`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: '7' });
    }
    expect(calls.filter((call) => call === `${where} 7`)).toHaveLength(1);
  });

  it('applies @UseGuards() and reads SetMetadata() on a handler stacked with cachet decorators', async () => {
    expect((await fetch(`${base}/items/guarded`)).status).toBe(403);
    expect((await fetch(`${base}/items/guarded`, { headers: { 'x-role': 'guest' } })).status).toBe(403);
    const allowed = await fetch(`${base}/items/guarded`, { headers: { 'x-role': 'admin' } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toBe('secret');
  });

  it('runs a pipe from @UsePipes() given on either side of cachet decorators', async () => {
    const response = await fetch(`${base}/items/piped/hello`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('HELLO');
  });

  it('keeps Swagger operations (@ApiOperation) on either side of @Cached in the generated document', () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('items').build());
    expect(document.paths['/items/documented/above']?.get?.summary).toBe('Documented above');
    expect(document.paths['/items/documented/below']?.get?.summary).toBe('Documented below');
  });

  it('runs an interceptor from @UseInterceptors() given between cachet decorators', async () => {
    const response = await fetch(`${base}/items/stamped`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-stamp')).toBe('intercepted');
    expect(await response.text()).toBe('stamped');
  });
});
