import { Controller, Get, Inject, Post, Query, UseInterceptors } from '@nestjs/common';
import { Cache } from '../../lib';
import { CacheRoute, CachetInterceptor } from '../../lib/nestjs';
import { FaqService } from './faq.service';

@Controller('faq')
@UseInterceptors(CachetInterceptor)
export class FaqController {
  constructor(
    @Inject(FaqService) private readonly faq: FaqService,
    @Inject(Cache) private readonly cache: Cache,
  ) {}

  /** The whole HTTP response is cached (X-Cache: HIT/MISS): the same answer for everyone, hence `tenant: false`. */
  @Get()
  @CacheRoute({ ttl: '5m', tenant: false, tags: ['faq'] })
  ask(@Query('q') q: string) {
    return this.faq.answer(q);
  }

  /** Not cached over HTTP: the service's @Cached model call still is. */
  @Get('live')
  live(@Query('q') q: string) {
    return this.faq.answer(q);
  }

  @Post('invalidate')
  async invalidate() {
    return { removed: await this.cache.invalidateTags(['faq']) };
  }
}
